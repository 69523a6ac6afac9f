import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { WebSocket } from 'ws';
import { checkProfiles, idKey, type AgentEvent, type ProfileState } from '@app/events';
import { DeletedProfiles, NatsClient } from '@app/messaging';
import { ClientRegistry } from './client-registry.js';
import { DeliveryFeed } from './delivery-feed.js';
import type { GatewayConfig } from './gateway.config.js';
import { GATEWAY_CONFIG } from './gateway.tokens.js';

/** Where a resuming client's history starts in the deliveries stream. */
export type ResumeStart = { opt_start_seq: number } | { opt_start_time: string };

/** A catching-up client waits while more than this is unsent to it (history is sent as fast as it reads, never piled up). */
const CATCH_UP_BUFFERED_BYTES = 256 * 1024;
/** How long a catch-up waits for more history before it takes the history as read. */
const HISTORY_WAIT_MS = 1_000;
/** History messages asked for at once. */
const HISTORY_BATCH = 256;

/** Messages a second, shared out as they are taken (a token bucket of one second's burst). */
class Rate {
  private tokens: number;
  private refilledAt = Date.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  /** Takes one message's token; returns how long to wait first (0: none). */
  take(): number {
    const now = Date.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.refilledAt) * this.perSecond) / 1_000);
    this.refilledAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1_000) / this.perSecond);
  }
}

/**
 * Resumes a client from a position in its endpoint's history: the
 * deliveries stream keeps every websocket delivery for STREAM_MAX_AGE, under
 * `<p>.deliveries.ws.<endpoint>.<event>`, so the delivery carrying an
 * `event.id` is found by subject (the last message of that subject), and a
 * time by the stream's own index. The client reads its history through an
 * ordered consumer of its own, rate-capped per client (WS_RESUME_RATE) and
 * for all clients of the replica together (WS_RESUME_TOTAL_RATE), at the
 * pace it reads (never closed as slow for the backlog it asked for); then it
 * joins the replica's live feed at the sequence history reached: no gap, no
 * duplicate, in stream order. History is sent as resend and replay send
 * it: a candidate whose profile was deleted since is removed, and an
 * identification left without candidates is not sent (DeletedProfiles).
 */
@Injectable()
export class Resumer {
  private readonly logger = new Logger(Resumer.name);
  private readonly total: Rate;

  constructor(
    private readonly nats: NatsClient,
    private readonly clients: ClientRegistry,
    private readonly deletedProfiles: DeletedProfiles,
    private readonly feed: DeliveryFeed,
    @Inject(GATEWAY_CONFIG) private readonly settings: GatewayConfig,
  ) {
    this.total = new Rate(settings.WS_RESUME_TOTAL_RATE);
  }

  /** The position after the delivery of event `eventKey` to the endpoint; null when the stream has none (never routed here, or aged out). */
  async afterEvent(endpointKey: string, eventKey: string): Promise<ResumeStart | null> {
    const { manager, topology } = this.nats;
    try {
      const message = await manager.streams.getMessage(topology.streams.deliveries, { last_by_subj: topology.websocketDeliveries(endpointKey, eventKey) });
      return message ? { opt_start_seq: message.seq + 1 } : null;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
      throw error;
    }
  }

  /** Sends the client its endpoint's history from `start`, then hands it to the live feed; ends early when it disconnects. */
  async catchUp(socket: WebSocket, endpointKey: string, start: ResumeStart): Promise<void> {
    const { jetstream, topology } = this.nats;
    const config: Partial<OrderedConsumerOptions> = {
      filter_subjects: topology.websocketDeliveriesOf(endpointKey),
      ...('opt_start_seq' in start ? { deliver_policy: DeliverPolicy.StartSequence, ...start } : { deliver_policy: DeliverPolicy.StartTime, ...start }),
    };
    // The stream sequence before the first delivery it may send: nothing at or below it goes out.
    let lastSent = 'opt_start_seq' in start ? start.opt_start_seq - 1 : 0;
    // A client that was up to date (a drain, a short drop) has nothing to read: the live feed has the rest.
    if ('opt_start_seq' in start && lastSent >= this.feed.position && this.clients.goLive(socket, lastSent)) return;
    const consumer = await jetstream.consumers.get(topology.streams.deliveries, config);
    const own = new Rate(this.settings.WS_RESUME_RATE);
    let sent = 0;
    const profiles = new Map<string, boolean>();
    try {
      let live = false;
      while (!live && socket.readyState === WebSocket.OPEN) {
        const batch = await consumer.fetch({ max_messages: HISTORY_BATCH, expires: HISTORY_WAIT_MS });
        let read = 0;
        for await (const message of batch) {
          read += 1;
          const frame = await this.checked(message.data, profiles);
          if (frame) {
            await this.pace(socket, own);
            if (socket.readyState !== WebSocket.OPEN) break;
            socket.send(frame, { binary: false });
            sent += 1;
          }
          lastSent = message.seq;
          if (message.info.pending === 0 && this.clients.goLive(socket, lastSent)) {
            live = true;
            break;
          }
        }
        // History had nothing more within the wait: caught up, unless live frames were dropped meanwhile.
        if (!live && read === 0) live = this.clients.goLive(socket, lastSent);
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
    this.logger.debug?.(`a client of ${endpointKey} caught up with ${sent} deliveries from history`);
  }

  /**
   * The frame as it goes out now: without the candidates whose profiles were
   * deleted since it was routed; null when nothing is left of an identification.
   * `known`: the profiles looked up for this client so far.
   */
  private async checked(frame: Uint8Array, known: Map<string, boolean>): Promise<Uint8Array | null> {
    const event = JSON.parse(Buffer.from(frame).toString('utf8')) as AgentEvent;
    const candidates = 'candidates' in event && event.candidates ? event.candidates : [];
    if (candidates.length === 0) return frame;
    for (const candidate of candidates) {
      const key = idKey(candidate.profile.id);
      if (!known.has(key)) known.set(key, await this.deletedProfiles.isDeleted(key));
    }
    const result = checkProfiles(event, (key): ProfileState | undefined => (known.get(key) ? { deleted: true } : undefined));
    if (result.kind === 'lost') return null;
    return result.changed ? new TextEncoder().encode(JSON.stringify(result.event)) : frame;
  }

  /** Waits for the client's and the replica's rate, and for the client to read what it has. */
  private async pace(socket: WebSocket, own: Rate): Promise<void> {
    const wait = Math.max(own.take(), this.total.take());
    if (wait > 0) await sleep(wait);
    while (socket.readyState === WebSocket.OPEN && socket.bufferedAmount > CATCH_UP_BUFFERED_BYTES) await sleep(10);
  }
}
