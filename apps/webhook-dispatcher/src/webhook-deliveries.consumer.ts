import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { acceptedAtOf, DeadLetterReason, DeliveryOutcome, Headers, JetStreamConsumer, NatsClient, Outcome, type EndpointView, type MessageHandler } from '@app/messaging';
import { AttemptDelivery } from './attempt-delivery.usecase.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeliveryGate, Verdict } from './delivery-gate.js';

const IN_PROGRESS_INTERVAL_MS = 4_000;
/** How soon a delivery is tried again while this replica's config view is not loaded. */
const VIEW_NOT_LOADED_RETRY_MS = 1_000;

/**
 * Fresh webhook deliveries. Each gets its first attempt at once when the
 * DeliveryGate says so; otherwise (a slow or dead receiver already has its
 * share in flight, or the endpoint is paused) it is parked and acked, so
 * one endpoint never fills the consumer's ack window. Every outcome, parking
 * included, is recorded in the attempts stream before the ack: none of this
 * needs PostgreSQL, which the projection catches up with when it can.
 */
@Injectable()
@JetStreamConsumer({
  durable: 'webhook-dispatcher',
  stream: (topology) => topology.streams.deliveries,
  filterSubject: (topology) => topology.allWebhookDeliveries,
  concurrency: 1_024,
  // Short, so that a crashed replica's deliveries go out again soon; a long
  // attempt keeps its message with in-progress acks (see handle).
  ackWaitMs: 10_000,
})
export class WebhookDeliveriesConsumer implements MessageHandler {
  constructor(
    private readonly nats: NatsClient,
    private readonly gate: DeliveryGate,
    private readonly attemptDelivery: AttemptDelivery,
    private readonly recorder: DeliveryRecorder,
  ) {}

  async handle(message: JsMsg): Promise<Outcome> {
    const endpointId = this.nats.topology.endpointOfDelivery(message.subject);
    const eventId = message.headers?.get(Headers.eventId);
    if (!eventId) return Outcome.skip(DeadLetterReason.MISSING_HEADERS, `missing ${Headers.eventId} header`);
    const acceptedAt = acceptedAtOf(message.headers);
    // Waiting for a lane, the attempt itself, and recording it may outlast the ack wait: keep the message ours.
    const keepAlive = () => message.working();
    const inProgress = setInterval(keepAlive, IN_PROGRESS_INTERVAL_MS);
    try {
      const decision = await this.gate.decide(endpointId, 'fresh');
      switch (decision.verdict) {
        case Verdict.UNKNOWN:
          // "Not in my view" is "deleted" only while the view is loaded and watching.
          return decision.deleted
            ? Outcome.skip(DeadLetterReason.UNKNOWN_ENDPOINT, `endpoint ${endpointId} does not exist (deleted?)`)
            : Outcome.retry('the config view is not loaded', VIEW_NOT_LOADED_RETRY_MS);
        case Verdict.DISABLED:
          // Kept for resendDelivery.
          await this.recorder.record(
            {
              endpointId,
              eventId,
              log: { attempt: 0, attemptedAt: new Date().toISOString(), statusCode: null, durationMs: 0, error: 'not sent: the endpoint is disabled (410 Gone)', responseBody: null, outcome: DeliveryOutcome.FAILED },
              retry: { kind: 'fail' },
              body: Buffer.from(message.data).toString('base64'),
            },
            keepAlive,
          );
          return Outcome.done;
        case Verdict.PAUSED:
          // Waits in the retry store, not in the consumer's ack window.
          await this.park(endpointId, eventId, message.data, acceptedAt, keepAlive);
          return Outcome.done;
        case Verdict.BUSY:
          await this.park(endpointId, eventId, message.data, acceptedAt, keepAlive, decision.retryInMs);
          return Outcome.done;
        case Verdict.SEND:
          return await this.attempt(decision.endpoint, decision.release, eventId, message.data, acceptedAt, keepAlive);
      }
    } finally {
      clearInterval(inProgress);
    }
  }

  /** Parks the delivery for its first attempt, due now or in `inMs`. */
  private park(endpointId: string, eventId: string, body: Uint8Array, acceptedAt: number | null, keepAlive: () => void, inMs = 0): Promise<void> {
    return this.recorder.record(
      {
        endpointId,
        eventId,
        log: null,
        retry: { kind: 'park', attempt: 1, at: new Date(Date.now() + inMs).toISOString() },
        body: Buffer.from(body).toString('base64'),
        ...(acceptedAt !== null ? { acceptedAt: new Date(acceptedAt).toISOString() } : {}),
      },
      keepAlive,
    );
  }

  /** The first attempt, holding a lane. */
  private async attempt(endpoint: EndpointView, release: () => void, eventId: string, body: Uint8Array, acceptedAt: number | null, keepAlive: () => void): Promise<Outcome> {
    try {
      const outcome = await this.attemptDelivery.execute(endpoint, eventId, body, 1, 'fresh', { keepAlive, answered: release, acceptedAt });
      release();
      // Its signing secrets have not arrived (or cannot be opened): it waits in the retry store, not in the ack window.
      if (outcome.kind === 'unsigned') await this.park(endpoint.id, eventId, body, acceptedAt, keepAlive);
      return Outcome.done;
    } finally {
      release();
    }
  }
}
