import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { acceptedAtOf, DeadLetterReason, dueAtOf, DURABLES, Headers, JetStreamConsumer, type HandleContext, type MessageHandler, NatsClient, Outcome } from '@app/messaging';
import { DeliveryFlow } from './delivery-flow.js';
import { DeliveryState } from './delivery-transitions.js';

const IN_PROGRESS_INTERVAL_MS = 4_000;
/** How soon a delivery is tried again while this replica's config view is not loaded. */
const VIEW_NOT_LOADED_RETRY_MS = 1_000;

/**
 * Fresh webhook deliveries. Each gets its first attempt at once when the
 * DeliveryGate says so; otherwise (a slow or dead receiver already has its
 * share in flight, or the endpoint is paused) it is parked and acked, so
 * one endpoint never fills the consumer's ack window. A delivery the api
 * re-sent (resend, replay) for a later time is parked until then. Every
 * outcome, parking included, is recorded in the attempts stream before the
 * ack (DeliveryFlow): none of this needs PostgreSQL, which the ledger
 * catches up with when it can.
 *
 * Partitioned by endpoint: one replica at a time reads an endpoint's
 * deliveries, and each takes its lane (is sent) only after the endpoint's
 * earlier ones took theirs (or were parked), so first attempts go out in
 * the order the deliveries were stored; parked ones keep their place
 * (FirstAttemptOrder).
 */
@Injectable()
@JetStreamConsumer({
  durable: DURABLES.webhookDispatcher,
  stream: (topology) => topology.streams.deliveries,
  filterSubject: (topology) => topology.allWebhookDeliveries,
  concurrency: 1_024,
  // Short, so that a crashed replica's deliveries go out again soon; a long
  // attempt keeps its message with in-progress acks (see handle).
  ackWaitMs: 10_000,
  partitionKey: (message, topology) => topology.endpointOfDelivery(message.subject),
  // A delivery done since the last position is sent again by the next holder after a kill: at most a quarter second's
  // worth. Every 25 ms made the dispatcher's CPU per delivery about half again as much (docs/benchmarks.md, The whole pipeline).
  positionEveryMs: 250,
})
export class WebhookDeliveriesConsumer implements MessageHandler {
  constructor(
    private readonly nats: NatsClient,
    private readonly flow: DeliveryFlow,
  ) {}

  async handle(message: JsMsg, context: HandleContext): Promise<Outcome> {
    const endpointId = this.nats.topology.endpointOfDelivery(message.subject);
    const eventId = message.headers?.get(Headers.eventId);
    if (!eventId) return Outcome.skip(DeadLetterReason.MISSING_HEADERS, `missing ${Headers.eventId} header`);
    // Waiting for a lane, the attempt itself, and recording it may outlast the ack wait: keep the message ours
    // (read through a durable consumer; a partitioned reader's messages take no acks).
    const keepAlive = context.signal ? undefined : () => message.working();
    const inProgress = keepAlive ? setInterval(keepAlive, IN_PROGRESS_INTERVAL_MS) : null;
    try {
      const delivery = { from: DeliveryState.FRESH, endpointId, eventId, body: message.data, attempt: 1, acceptedAt: acceptedAtOf(message.headers), dueAt: dueAtOf(message.headers), firstSeq: message.seq };
      const step = await this.flow.advance(delivery, keepAlive, context);
      if (step.deadLetter) return Outcome.skip(DeadLetterReason.UNKNOWN_ENDPOINT, `endpoint ${endpointId} does not exist (deleted?)`);
      // "Not in my view" is "deleted" only while the view is loaded and watching.
      if (step.to === DeliveryState.FRESH) return Outcome.retry('the config view is not loaded', VIEW_NOT_LOADED_RETRY_MS);
      return Outcome.done;
    } finally {
      if (inProgress) clearInterval(inProgress);
    }
  }
}
