import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type JsMsg, type OrderedConsumerOptions, type PubAck } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { eventMessageId, idKey, routingFieldsOf, type AgentEvent, type RoutingFields } from '@app/events';
import { DeletedProfiles, EndpointType, Headers, NatsClient, publishDurably, readRoutingHeaders, RoutingTable, WebsocketPositions, type Lease } from '@app/messaging';
import { backoffMs, isTransientFailure, Rate } from '@app/runtime';
import type { ReplayCounts, ReplayJob, ReplayStore } from './replay-store.js';

/** Messages read from the stream at once (fewer when the job's rate is lower: progress is recorded once a batch). */
const MAX_BATCH = 500;
/** How long a read waits for more messages before it takes the range as read. */
const READ_WAIT_MS = 2_000;
/** Profiles whose deletion state a run remembers; beyond, it forgets them all and asks again (memory stays flat over millions of events). */
const MAX_PROFILES_REMEMBERED = 100_000;
/** Requests to the deliveries stream at once while a re-route looks for earlier websocket deliveries. */
const LOOKUPS_AT_ONCE = 64;

/** What the run needs from the replica that runs it. */
export interface ReplayRunContext {
  nats: NatsClient;
  store: ReplayStore;
  routing: RoutingTable;
  deletedProfiles: DeletedProfiles;
  /** This replica's name (host:pid), written on the job's progress. */
  worker: string;
  /** The job's rate now: its own cap, within the share of the total cap it gets. */
  rateOf: (job: ReplayJob) => number;
}

/** A delivery the run publishes: where, and with which headers and id. */
interface Send {
  subject: string;
  endpointKey: string;
  eventKey: string;
  body: Uint8Array;
  messageId: string;
  resent: boolean;
}

/**
 * Runs one replay job while it holds the job's lease, from where the job's
 * progress says (a replica that takes a job over goes on after the last
 * message recorded as handled; a batch in flight when the last holder died
 * is published again under the same message ids, which the stream's
 * duplicate window stores once). It reads the job's range in batches
 * through an ordered consumer, up to the job's end or its creation,
 * whichever is first (its own copies land in the same stream), and records
 * progress after each batch, once what the batch published is stored.
 *
 * - REDELIVER: every delivery of the endpoint in the range, again, on its
 *   own subject, with the event's id (the webhook-id) and `Es-Resent:
 *   replay`; an earlier replay's or resend's copies are not sent again.
 * - REROUTE: every event past profile-sync in the range, through today's
 *   filters, to each endpoint that was not routed it: a websocket endpoint
 *   with no delivery stored on the event's subject, a webhook endpoint
 *   whose delivery the dispatcher's ledger does not know.
 *
 * Both re-check deleted profiles as every re-send does. A re-delivery's
 * message ids carry the job's id: it is never swallowed by the duplicate
 * window of an earlier one. A re-route's are the router's own for the same
 * delivery: within the duplicate window, the router's and the re-route's
 * copy of one delivery (an event the router had not routed yet, a delivery
 * the dispatcher had not recorded yet) are stored once.
 */
export class ReplayRun {
  private readonly logger = new Logger(ReplayRun.name);
  private readonly profiles = new Map<string, boolean>();
  private readonly rate: Rate;
  private counts: ReplayCounts;
  /** Messages read a second over the last batches. */
  private measured: number | null = null;

  constructor(
    private readonly job: ReplayJob,
    private readonly lease: Lease,
    private readonly context: ReplayRunContext,
    progress: ReplayCounts,
  ) {
    this.counts = { ...progress, reached: { ...progress.reached } };
    this.rate = new Rate(context.rateOf(job));
  }

  /** The last instant whose messages the job reads. */
  private get until(): number {
    return Math.min(this.job.to.getTime(), this.job.createdAt.getTime());
  }

  async execute(): Promise<void> {
    const { store, worker } = this.context;
    let failures = 0;
    while (this.lease.held) {
      try {
        if (await store.cancelRequested(this.job.id)) {
          await store.record(this.job.id, worker, this.counts, null, { state: 'CANCELLED' });
          return;
        }
        this.counts.total ??= this.counts.done + (await this.countRange());
        const finished = await this.readFrom();
        if (finished === 'lost') return;
        await store.record(this.job.id, worker, this.counts, this.measured, { state: finished === 'cancelled' ? 'CANCELLED' : 'SUCCEEDED' });
        this.logger.log(`replay ${this.job.id} ${finished === 'cancelled' ? 'cancelled' : 'done'}: ${this.counts.done} read, ${this.counts.sent} sent, ${this.counts.skipped} skipped`);
        return;
      } catch (error) {
        if (!this.lease.held) return;
        if (!isTransientFailure(error)) {
          this.logger.error(`replay ${this.job.id} failed: ${(error as Error).message}`);
          await store.record(this.job.id, worker, this.counts, null, { state: 'FAILED', error: (error as Error).message }).catch(() => undefined);
          return;
        }
        failures += 1;
        this.logger.warn(`replay ${this.job.id} waits for a dependency (${(error as Error).message})`);
        await sleep(backoffMs(failures, 500, 10_000), undefined, { signal: this.lease.signal }).catch(() => undefined);
      }
    }
  }

  /** The stream, and the subject whose messages the job reads. */
  private source(): { stream: string; subject: string } {
    const { topology } = this.context.nats;
    if (this.job.kind === 'REROUTE') return { stream: topology.streams.routable, subject: topology.routableEvents };
    const endpointKey = idKey(this.job.endpointId!);
    const subject = this.job.endpointType === EndpointType.WEB_SOCKET ? topology.websocketDeliveries(endpointKey) : topology.webhookDeliveries(endpointKey);
    return { stream: topology.streams.deliveries, subject };
  }

  /** Where reading starts: after the last message handled, or at the range's start. */
  private start(): { deliver_policy: DeliverPolicy; opt_start_seq?: number; opt_start_time?: string } {
    return this.counts.position > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.counts.position + 1 }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: this.job.from.toISOString() };
  }

  /** Messages of the job's subject from where it starts to its end: pending from the start, less pending from the end. */
  private async countRange(): Promise<number> {
    const { stream, subject } = this.source();
    const pendingFrom = async (start: { deliver_policy: DeliverPolicy; opt_start_seq?: number; opt_start_time?: string }): Promise<number> => {
      const { manager } = this.context.nats;
      const name = `replay-count-${randomUUID()}`;
      const info = await manager.consumers.add(stream, { ...start, name, filter_subject: subject, ack_policy: AckPolicy.None, inactive_threshold: nanos(30_000) });
      await manager.consumers.delete(stream, info.name).catch(() => undefined);
      return info.num_pending;
    };
    const [all, after] = await Promise.all([pendingFrom(this.start()), pendingFrom({ deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(this.until + 1).toISOString() })]);
    return Math.max(0, all - after);
  }

  /** Reads to the range's end; 'lost' when the lease went, 'cancelled' when asked to stop. */
  private async readFrom(): Promise<'finished' | 'cancelled' | 'lost'> {
    const { stream, subject } = this.source();
    const options: Partial<OrderedConsumerOptions> = { filter_subjects: subject, ...this.start() };
    const consumer = await this.context.nats.jetstream.consumers.get(stream, options);
    try {
      for (;;) {
        const rate = this.context.rateOf(this.job);
        this.rate.set(rate);
        const batchSize = this.job.dryRun ? MAX_BATCH : Math.max(1, Math.min(MAX_BATCH, Math.ceil(rate)));
        const startedAt = Date.now();
        const messages: JsMsg[] = [];
        let ended = false;
        for await (const message of await consumer.fetch({ max_messages: batchSize, expires: READ_WAIT_MS })) {
          if (message.info.timestampNanos / 1e6 > this.until) {
            ended = true;
            break;
          }
          messages.push(message);
          if (message.info.pending === 0) break;
        }
        if (messages.length === 0 && !ended && (await consumer.info()).num_pending > 0) continue;
        await this.handle(messages);
        if (!this.lease.held) return 'lost';
        if (messages.length > 0) this.measured = (messages.length * 1_000) / Math.max(1, Date.now() - startedAt);
        if (!(await this.context.store.record(this.job.id, this.context.worker, this.counts, this.measured))) return 'lost';
        if (ended || messages.length === 0 || messages.at(-1)!.info.pending === 0) return 'finished';
        if (await this.context.store.cancelRequested(this.job.id)) return 'cancelled';
      }
    } finally {
      await consumer.delete().catch(() => undefined);
    }
  }

  /** One batch: what to send, then the sends, paced (a dry run only counts); the counts move once all are stored. */
  private async handle(messages: JsMsg[]): Promise<void> {
    if (messages.length === 0) return;
    const sends = this.job.kind === 'REROUTE' ? await this.reroutes(messages) : await this.redeliveries(messages);
    const published: Array<Promise<readonly [Send, PubAck]>> = [];
    for (const send of sends) {
      if (!this.job.dryRun) {
        const wait = this.rate.take();
        if (wait > 0) await sleep(wait);
        if (!this.lease.held) break;
        published.push(this.publish(send).then((ack) => [send, ack] as const));
      }
    }
    await this.recordPositions(await Promise.all(published));
    if (!this.lease.held) return;
    const sentEvents = new Set<string>();
    for (const send of sends) {
      this.counts.reached[send.endpointKey] = (this.counts.reached[send.endpointKey] ?? 0) + 1;
      sentEvents.add(send.eventKey);
    }
    this.counts.sent += sends.length;
    this.counts.done += messages.length;
    this.counts.skipped += messages.filter((message) => !sentEvents.has(message.headers?.get(Headers.eventId) ?? '')).length;
    this.counts.position = messages.at(-1)!.seq;
  }

  /** A re-route's websocket deliveries are the event's first to their endpoints: where they sit is recorded, as the router does. */
  private async recordPositions(stored: ReadonlyArray<readonly [Send, PubAck]>): Promise<void> {
    const { topology } = this.context.nats;
    const byEvent = new Map<string, Array<readonly [string, PubAck]>>();
    for (const [send, ack] of stored) {
      if (send.resent || send.subject !== topology.websocketDeliveries(send.endpointKey)) continue;
      byEvent.set(send.eventKey, [...(byEvent.get(send.eventKey) ?? []), [send.endpointKey, ack]]);
    }
    await Promise.all([...byEvent].map(([eventKey, positions]) => WebsocketPositions.record(this.context.nats, eventKey, positions)));
  }

  private publish(send: Send): Promise<PubAck> {
    return publishDurably(this.context.nats, send.subject, send.body, {
      messageId: send.messageId,
      headers: {
        [Headers.eventId]: send.eventKey,
        [Headers.endpointId]: send.endpointKey,
        ...(send.resent ? { [Headers.resent]: 'replay' } : {}),
      },
    });
  }

  private async redeliveries(messages: JsMsg[]): Promise<Send[]> {
    const sends: Send[] = [];
    const endpointKey = idKey(this.job.endpointId!);
    for (const message of messages) {
      const eventKey = message.headers?.get(Headers.eventId);
      // An earlier resend's or replay's copy is not the endpoint's delivery: it is not sent again.
      if (!eventKey || message.headers?.has(Headers.resent)) continue;
      const body = await this.recheck(message.data);
      if (body === null) continue;
      sends.push({ subject: message.subject, endpointKey, eventKey, body, messageId: `${endpointKey}:${eventKey}:replay:${this.job.id}`, resent: true });
    }
    return sends;
  }

  private async reroutes(messages: JsMsg[]): Promise<Send[]> {
    const { topology } = this.context.nats;
    const candidates: Array<{ eventKey: string; agentId: string; endpointKey: string; type: EndpointType; body: Uint8Array }> = [];
    for (const message of messages) {
      const eventId = message.headers?.get(Headers.eventId);
      let fields: RoutingFields | null = readRoutingHeaders(message.headers);
      if (!eventId || !fields) continue;
      const body = await this.recheck(message.data);
      if (body === null) continue;
      // Candidates removed since change the watchlists the event is routed by.
      if (body !== message.data) fields = routingFieldsOf(JSON.parse(Buffer.from(body).toString('utf8')) as AgentEvent);
      const eventKey = idKey(eventId);
      for (const endpoint of this.context.routing.index.targets(fields)) candidates.push({ eventKey, agentId: fields.agentId, endpointKey: idKey(endpoint.id), type: endpoint.type, body });
    }
    const hooks = candidates.filter((candidate) => candidate.type !== EndpointType.WEB_SOCKET);
    const known = await this.context.store.knownWebhookDeliveries([...new Set(hooks.map((hook) => hook.endpointKey))], [...new Set(hooks.map((hook) => hook.eventKey))]);
    const routed = await this.websocketDeliveriesStored(candidates.filter((candidate) => candidate.type === EndpointType.WEB_SOCKET));
    return candidates
      .filter((candidate) => !known.has(`${candidate.endpointKey}:${candidate.eventKey}`) && !routed.has(`${candidate.endpointKey}:${candidate.eventKey}`))
      .map(({ eventKey, agentId, endpointKey, type, body }) => ({
        subject: type === EndpointType.WEB_SOCKET ? topology.websocketDeliveries(endpointKey) : topology.webhookDeliveries(endpointKey),
        endpointKey,
        eventKey,
        body,
        // The router's own id for this delivery: if the router stores it too (an event still in its backlog, or one
        // whose delivery is not in the ledger yet), the stream's duplicate window keeps one of the two.
        messageId: `${eventMessageId(agentId, eventKey)}:${endpointKey}`,
        resent: false,
      }));
  }

  /** Which websocket deliveries are in the deliveries stream already (`<endpoint>:<event>`): by their recorded positions (WebsocketPositions). */
  private async websocketDeliveriesStored(wanted: Array<{ eventKey: string; endpointKey: string }>): Promise<Set<string>> {
    const stored = new Set<string>();
    for (let index = 0; index < wanted.length; index += LOOKUPS_AT_ONCE) {
      await Promise.all(
        wanted.slice(index, index + LOOKUPS_AT_ONCE).map(async ({ eventKey, endpointKey }) => {
          if ((await WebsocketPositions.find(this.context.nats, eventKey, endpointKey)) !== null) stored.add(`${endpointKey}:${eventKey}`);
        }),
      );
    }
    return stored;
  }

  private recheck(body: Uint8Array): Promise<Uint8Array | null> {
    if (this.profiles.size > MAX_PROFILES_REMEMBERED) this.profiles.clear();
    return this.context.deletedProfiles.recheck(body, this.profiles);
  }
}
