import { Injectable, Logger } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { checkProfiles, eventMessageId, firstIssue, idKey, profileDeletedSchema, profileUpsertedSchema, routingFieldsOf, schemaMessages, type AgentEvent } from '@app/events';
import { DeadLetterReason, Headers, JetStreamConsumer, NatsClient, Outcome, PublishUnavailableError, publishDurably, routingHeaders, type HandleContext, type MessageHandler } from '@app/messaging';
import { eventLog } from '@app/runtime';
import { LostEventsStore } from './lost-events.store.js';
import { ProfileRegistry } from './profile-registry.js';
import { EVENTS_CONSUMER } from './profile-sync.tokens.js';
import { ProfileSyncMetrics } from './profile-sync.metrics.js';

const RETRY_MS = 1_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Everything in the events stream, in the order it was stored: the
 * platform's profile lifecycle and the ingested events. Partitioned by
 * camera: every replica reads the whole stream, decides the events of the
 * partitions it holds and applies every lifecycle message to its own
 * registry (the holder of partition 0 also writes it to PostgreSQL).
 * Handlers start in stream order and a lifecycle message changes the
 * registry before its handler's first await, so an event stored after a
 * deletion is always decided with the deletion applied, in every replica.
 */
@Injectable()
@JetStreamConsumer({
  durable: EVENTS_CONSUMER,
  stream: (topology) => topology.streams.events,
  filterSubject: (topology) => topology.allEvents,
  concurrency: 512,
  ackWaitMs: 10_000,
  // The lifecycle is every partition's (null): each replica applies it in its place in the stream.
  partitionKey: (message, topology) => (message.subject === topology.ingestedEvents ? idKey(message.headers?.get(Headers.cameraId) ?? '') : null),
})
export class EventsConsumer implements MessageHandler {
  private readonly logger = new Logger(EventsConsumer.name);

  constructor(
    private readonly nats: NatsClient,
    private readonly registry: ProfileRegistry,
    private readonly lostEvents: LostEventsStore,
    private readonly metrics: ProfileSyncMetrics,
  ) {}

  /** PostgreSQL holds the lifecycle up to where partition 0 had got when the registry was loaded: the rest is read from the stream. */
  broadcastFrom(): number {
    return this.registry.loadedThrough + 1;
  }

  async handle(message: JsMsg, context: HandleContext): Promise<Outcome> {
    const { topology } = this.nats;
    if (message.subject === topology.profileUpserted) return this.lifecycle(message, 'upserted', context.owner);
    if (message.subject === topology.profileDeleted) return this.lifecycle(message, 'deleted', context.owner);
    if (message.subject !== topology.ingestedEvents) return Outcome.skip(DeadLetterReason.UNKNOWN_SUBJECT, `no handler for ${message.subject}`);
    let event: AgentEvent;
    try {
      // Ingest validated it against the schema before storing it; parsing is all that is left to do.
      event = JSON.parse(decoder.decode(message.data)) as AgentEvent;
    } catch {
      return Outcome.skip(DeadLetterReason.MALFORMED_MESSAGE, 'event is not JSON');
    }
    // Decided now, synchronously, with the registry as every earlier lifecycle message left it.
    // As the lifecycle stored before the event left each profile: an event read again after its partition moved is
    // decided as it was the first time, whatever lifecycle this replica has applied since.
    const result = checkProfiles(event, (profileId) => this.registry.state(profileId, message.seq));
    try {
      if (result.kind === 'lost') {
        // Never delivered: the camera's next events need not wait for PostgreSQL to store it (the runner passes the
        // turn on once this event's own has come, after the camera's earlier events).
        context.passTurn();
        if (await this.lostEvents.divert(result.event, result.deletedProfileIds)) {
          this.metrics.lost.inc();
          this.logger.debug(`event diverted to the lost events: every candidate's profile is deleted`, ...eventLog(idKey(event.event.id)));
        }
        return Outcome.done;
      }
      // The event id's key de-duplicates and identifies it downstream; the body keeps the agent's spelling.
      const eventKey = idKey(event.event.id);
      const fields = routingFieldsOf(result.event);
      const headers = routingHeaders(eventKey, fields);
      // Ingest's acceptance time travels on to the deliveries (delivery latency metrics).
      const acceptedAt = message.headers?.get(Headers.acceptedAt);
      if (acceptedAt) headers[Headers.acceptedAt] = acceptedAt;
      // After the camera's earlier events, so that they stay in order.
      await context.turn;
      await publishDurably(this.nats, this.nats.topology.routableEvents, result.changed ? encoder.encode(JSON.stringify(result.event)) : message.data, {
        messageId: eventMessageId(fields.agentId, eventKey),
        headers,
      });
      return Outcome.done;
    } catch (error) {
      if (error instanceof PublishUnavailableError) return Outcome.retry(error.message, RETRY_MS, error.retryCapMs);
      throw error;
    }
  }

  /** `owner`: this replica writes the change to PostgreSQL (it holds partition 0); the others apply it in memory. */
  private lifecycle(message: JsMsg, change: 'upserted' | 'deleted', owner: boolean): Promise<Outcome> | Outcome {
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(message.data));
    } catch {
      return Outcome.skip(DeadLetterReason.MALFORMED_MESSAGE, `profile ${change} message is not JSON`);
    }
    if (change === 'upserted') {
      const parsed = profileUpsertedSchema.safeParse(value, { error: schemaMessages });
      if (!parsed.success) return Outcome.skip(DeadLetterReason.MALFORMED_MESSAGE, `invalid profile upsert: ${reasonOf(parsed.error)}`);
      if (!owner) {
        this.registry.apply(parsed.data.id, { deleted: false, groups: parsed.data.profile_groups }, message.seq);
        return Outcome.done;
      }
      // A failed write (PostgreSQL away) throws: retried until it lands, never skipped.
      return this.registry.upsert(parsed.data.id, parsed.data.profile_groups, message.seq).then(() => Outcome.done);
    }
    const parsed = profileDeletedSchema.safeParse(value, { error: schemaMessages });
    if (!parsed.success) return Outcome.skip(DeadLetterReason.MALFORMED_MESSAGE, `invalid profile delete: ${reasonOf(parsed.error)}`);
    if (!owner) {
      this.registry.apply(parsed.data.id, { deleted: true }, message.seq);
      return Outcome.done;
    }
    return this.registry.delete(parsed.data.id, message.seq).then(() => Outcome.done);
  }
}

function reasonOf(error: Parameters<typeof firstIssue>[0]): string {
  const { field, message } = firstIssue(error);
  return field === null ? message : `${field}: ${message}`;
}
