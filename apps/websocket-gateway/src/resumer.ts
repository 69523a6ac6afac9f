import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { WebSocket } from 'ws';
import { DeletedProfiles, Headers, NatsClient, WebsocketPositions } from '@app/messaging';
import { Rate } from '@app/runtime';
import { ClientRegistry } from './client-registry.js';
import { DeliveryFeed } from './delivery-feed.js';
import { RecentDeliveries } from './recent-deliveries.js';
import type { GatewayConfig } from './gateway.config.js';
import { GATEWAY_CONFIG } from './gateway.tokens.js';
import { GatewayMetrics } from './gateway.metrics.js';

/** Where a resuming client's history starts in the deliveries stream. */
export type ResumeStart = { opt_start_seq: number } | { opt_start_time: string };

/** Where a client resumes: after an event (held in memory, or found in the stream), or from a time. */
export type ResumePoint = { eventKey: string; stream: ResumeStart | null } | { since: string };

/** A catching-up client waits while more than this is unsent to it (history is sent as fast as it reads, never piled up). */
const CATCH_UP_BUFFERED_BYTES = 256 * 1024;
/** How long a catch-up waits for more history before it takes the history as read. */
const HISTORY_WAIT_MS = 1_000;
/** How long after a delivery is stored its position may still be unrecorded (WebsocketPositions, written next). */
const POSITIONS_SETTLE_MS = 1_000;
/** How long a position found in the stream answers other clients resuming after the same event (a reconnect wave). */
const POSITION_SHARED_MS = 10_000;
/** Positions held for sharing at most. */
const POSITIONS_SHARED = 10_000;
/** History messages asked for at once. */
const HISTORY_BATCH = 256;

/**
 * Resumes a client from a position in its endpoint's history: the
 * deliveries stream keeps every websocket delivery for STREAM_MAX_AGE, on
 * its endpoint's subject, and where each event's deliveries sit
 * (WebsocketPositions: the event's own delivery, not a later replay's copy),
 * so the delivery carrying an `event.id` is found in two message gets, and
 * a time by the stream's own index. A client that last saw a replayed copy gets again
 * what followed the event's first delivery: duplicates, never a gap. The client reads its history through an
 * ordered consumer of its own, rate-capped per client (WS_RESUME_RATE) and
 * for all clients of the replica together (WS_RESUME_TOTAL_RATE), at the
 * pace it reads (never closed as slow for the backlog it asked for); then it
 * joins its endpoint's live feed at the sequence history reached: no gap, no
 * duplicate, in stream order. History is sent as resend and replay send
 * it: a candidate whose profile was deleted since is removed, and an
 * identification left without candidates is not sent (DeletedProfiles).
 */
@Injectable()
export class Resumer {
  private readonly logger = new Logger(Resumer.name);
  private readonly total: Rate;
  /** How resumes were served: from memory, or from the stream (`/readyz`). */
  readonly resumes = { fromMemory: 0, fromStream: 0 };
  /**
   * Positions being looked up or found lately, by `<endpoint>:<event>`: the
   * clients of an endpoint that reconnect at once after the same event (a
   * drained replica's) share one lookup rather than two requests to NATS
   * each. A found position never moves; the delivery it names can only go
   * by trimming or age, oldest first, which can happen between any client's
   * lookup and its history read as well, shared or not.
   */
  private readonly positions = new Map<string, { start: Promise<ResumeStart | null>; at: number }>();

  constructor(
    private readonly nats: NatsClient,
    private readonly clients: ClientRegistry,
    private readonly deletedProfiles: DeletedProfiles,
    private readonly feed: DeliveryFeed,
    private readonly recent: RecentDeliveries,
    private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly settings: GatewayConfig,
  ) {
    this.total = new Rate(settings.WS_RESUME_TOTAL_RATE);
  }

  /**
   * Where a client resumes after event `eventKey`; null when neither memory
   * nor the stream holds the endpoint's delivery of it (never routed here, or
   * aged out). Memory first: no NATS request for a client that was nearly
   * up to date.
   */
  async afterEvent(endpointKey: string, eventKey: string): Promise<ResumePoint | null> {
    if (this.recent.has(endpointKey, eventKey)) return { eventKey, stream: null };
    const start = await this.sharedPosition(endpointKey, eventKey);
    return start ? { eventKey, stream: start } : null;
  }

  private sharedPosition(endpointKey: string, eventKey: string): Promise<ResumeStart | null> {
    const key = `${endpointKey}:${eventKey}`;
    const now = Date.now();
    const shared = this.positions.get(key);
    if (shared && now - shared.at < POSITION_SHARED_MS) return shared.start;
    if (this.positions.size >= POSITIONS_SHARED) {
      for (const [held, { at }] of this.positions) if (now - at >= POSITION_SHARED_MS) this.positions.delete(held);
      if (this.positions.size >= POSITIONS_SHARED) this.positions.clear();
    }
    const start = this.lookUpPosition(endpointKey, eventKey);
    this.positions.set(key, { start, at: now });
    // Only what was found is shared: a miss or a failure is asked again by the next client.
    start.then(
      (found) => found ?? this.forget(key, start),
      () => this.forget(key, start),
    );
    return start;
  }

  private forget(key: string, start: Promise<ResumeStart | null>): void {
    if (this.positions.get(key)?.start === start) this.positions.delete(key);
  }

  private async lookUpPosition(endpointKey: string, eventKey: string): Promise<ResumeStart | null> {
    const start = await this.streamAfterEvent(endpointKey, eventKey);
    if (start) return start;
    // Positions are recorded right after the deliveries they name are stored: a client that was sent the event
    // and resumed here in the instant between finds them on a second look.
    await sleep(POSITIONS_SETTLE_MS);
    return this.streamAfterEvent(endpointKey, eventKey);
  }

  private async streamAfterEvent(endpointKey: string, eventKey: string): Promise<ResumeStart | null> {
    const { manager, topology } = this.nats;
    // The event's first delivery to the endpoint: a copy a replay job sent later is not where the client's history
    // stands (it may never have seen it), and starting after it would skip what was routed in between.
    const seq = await WebsocketPositions.find(this.nats, eventKey, endpointKey);
    if (seq === null) return null;
    try {
      // The delivery itself still stored (not trimmed): what follows it is the client's history, whole.
      const message = await manager.streams.getMessage(topology.streams.deliveries, { seq });
      if (!message || message.subject !== topology.websocketDeliveries(endpointKey) || message.header.get(Headers.eventId) !== eventKey) return null;
      return { opt_start_seq: seq + 1 };
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
      throw error;
    }
  }

  /**
   * Sends the client its endpoint's history from `point`, then hands it to
   * the live feed; ends early when it disconnects. Call it right after the
   * client was added as catching up (ClientRegistry.addCatchingUp): what
   * memory holds is read at once, and anything later is held for the client.
   */
  async catchUp(socket: WebSocket, endpointKey: string, point: ResumePoint): Promise<void> {
    if ('since' in point) return this.fromStream(socket, endpointKey, { opt_start_time: point.since });
    const held = this.recent.after(endpointKey, point.eventKey);
    if (held) {
      this.resumes.fromMemory += 1;
      const profiles = new Map<string, boolean>();
      const own = new Rate(this.settings.WS_RESUME_RATE);
      let lastSent = held.afterSeq;
      for (const { seq, frame } of held.deliveries) {
        if ((await this.sendHistory(socket, frame, profiles, own)) === 'closed') return;
        lastSent = seq;
      }
      if (this.clients.goLive(socket, lastSent)) return;
      // Live frames were dropped while it caught up: the stream has them.
      return this.fromStream(socket, endpointKey, { opt_start_seq: lastSent + 1 });
    }
    const start = point.stream ?? (await this.streamAfterEvent(endpointKey, point.eventKey));
    if (!start) {
      // Gone from memory and from the stream in the instant since admission: ask for a reconnect.
      throw new Error('the position aged out while the client connected');
    }
    return this.fromStream(socket, endpointKey, start);
  }

  private async fromStream(socket: WebSocket, endpointKey: string, start: ResumeStart): Promise<void> {
    const { jetstream, topology } = this.nats;
    const config: Partial<OrderedConsumerOptions> = {
      filter_subjects: topology.websocketDeliveries(endpointKey),
      ...('opt_start_seq' in start ? { deliver_policy: DeliverPolicy.StartSequence, ...start } : { deliver_policy: DeliverPolicy.StartTime, ...start }),
    };
    // The stream sequence before the first delivery it may send: nothing at or below it goes out.
    let lastSent = 'opt_start_seq' in start ? start.opt_start_seq - 1 : 0;
    // A client that was up to date (a drain, a short drop) has nothing to read: the live feed has the rest.
    if ('opt_start_seq' in start && lastSent >= this.feed.positionOf(endpointKey) && this.clients.goLive(socket, lastSent)) return;
    this.resumes.fromStream += 1;
    const consumer = await jetstream.consumers.get(topology.streams.deliveries, config);
    const own = new Rate(this.settings.WS_RESUME_RATE);
    // The history the client asked for is rate-capped; what is routed while it catches up is not,
    // or a client of an endpoint busier than its cap would never catch up.
    const cappedUpTo = this.feed.positionOf(endpointKey);
    let sent = 0;
    const profiles = new Map<string, boolean>();
    try {
      let live = false;
      while (!live && socket.readyState === WebSocket.OPEN) {
        const batch = await consumer.fetch({ max_messages: HISTORY_BATCH, expires: HISTORY_WAIT_MS });
        let read = 0;
        for await (const message of batch) {
          read += 1;
          const outcome = await this.sendHistory(socket, message.data, profiles, message.seq <= cappedUpTo ? own : null);
          if (outcome === 'closed') break;
          if (outcome === 'sent') sent += 1;
          lastSent = message.seq;
          if (message.info.pending === 0 && this.clients.goLive(socket, lastSent)) {
            live = true;
            break;
          }
        }
        // History had nothing more within the wait: caught up, unless live frames were dropped meanwhile.
        // A batch that ended empty is caught up only if the consumer says nothing is pending (not a pull cut short).
        if (!live && read === 0 && (await consumer.info()).num_pending === 0) live = this.clients.goLive(socket, lastSent);
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    this.logger.debug?.(`a client of ${endpointKey} caught up with ${sent} deliveries from history`);
  }

  /** Sends one delivery of history as it goes out again (DeletedProfiles.recheck), at the client's pace; 'skipped' when nothing is left of it. */
  private async sendHistory(socket: WebSocket, frame: Uint8Array, profiles: Map<string, boolean>, rate: Rate | null): Promise<'sent' | 'skipped' | 'closed'> {
    const checked = await this.deletedProfiles.recheck(frame, profiles);
    if (!checked) return 'skipped';
    await this.pace(socket, rate);
    if (socket.readyState !== WebSocket.OPEN) return 'closed';
    socket.send(checked, { binary: false });
    this.metrics.framesSent.inc();
    return 'sent';
  }

  /**
   * Waits for the client's and the replica's rate (`own` null: not capped, for
   * deliveries routed after the catch-up began, which it must keep up with),
   * and for the client to read what it has.
   */
  private async pace(socket: WebSocket, own: Rate | null): Promise<void> {
    const wait = own ? Math.max(own.take(), this.total.take()) : 0;
    if (wait > 0) await sleep(wait);
    while (socket.readyState === WebSocket.OPEN && socket.bufferedAmount > CATCH_UP_BUFFERED_BYTES) await sleep(10);
  }
}
