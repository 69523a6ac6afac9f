import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { ConfigView, Headers, JetStreamConsumer, NatsClient, Outcome, type EndpointRecord, type MessageHandler } from '@app/messaging';
import { AttemptDelivery } from './attempt-delivery.usecase.js';
import { DeliveryLog } from './delivery-log.js';
import { DeliveryStore } from './delivery-store.js';
import { EndpointLanes } from './endpoint-lanes.js';

const IN_PROGRESS_INTERVAL_MS = 4_000;

/**
 * Fresh webhook deliveries. Each gets its first attempt at once when its
 * endpoint has a free lane; otherwise (a slow or dead receiver already has
 * its share in flight) it is parked in PostgreSQL and acked, so one endpoint
 * never fills the consumer's ack window. A failed attempt is parked for its
 * retry the same way: waiting retries never sit in JetStream.
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
    private readonly config: ConfigView,
    private readonly lanes: EndpointLanes,
    private readonly attemptDelivery: AttemptDelivery,
    private readonly store: DeliveryStore,
    private readonly log: DeliveryLog,
  ) {}

  async handle(message: JsMsg): Promise<Outcome> {
    const endpointId = this.nats.topology.endpointOfDelivery(message.subject);
    const eventId = message.headers?.get(Headers.eventId);
    if (!eventId) return Outcome.skip(`missing ${Headers.eventId} header`);
    const endpoint = this.config.endpoint(endpointId);
    if (!endpoint) return Outcome.skip(`endpoint ${endpointId} does not exist (deleted?)`);
    if (endpoint.state === 'DISABLED_GONE') {
      // The receiver said 410 Gone: nothing is sent until the endpoint is resumed; kept for resendDelivery.
      await this.store.markFailed(endpointId, eventId, message.data);
      await this.log.record({
        endpointId,
        eventId,
        attempt: 0,
        attemptedAt: new Date(),
        statusCode: null,
        durationMs: 0,
        error: 'not sent: the endpoint is disabled (410 Gone)',
        responseBody: null,
        outcome: 'FAILED',
      });
      return Outcome.done;
    }
    // Waiting for a lane, and the attempt itself, may outlast the ack wait: keep the message ours.
    const inProgress = setInterval(() => message.working(), IN_PROGRESS_INTERVAL_MS);
    try {
      if (endpoint.state !== 'ACTIVE' || !(await this.lanes.acquire(endpointId))) {
        // Paused, or its lanes and waiting line are full: waits in PostgreSQL, not in the consumer's ack window.
        await this.store.park(endpointId, eventId, message.data, 1, new Date());
        return Outcome.done;
      }
      return await this.attempt(endpoint, eventId, message.data);
    } finally {
      clearInterval(inProgress);
    }
  }

  /** The first attempt, holding a lane; a failure is parked for its retry, or kept as failed. */
  private async attempt(endpoint: EndpointRecord, eventId: string, body: Uint8Array): Promise<Outcome> {
    try {
      const outcome = await this.attemptDelivery.execute(endpoint, eventId, body, 1);
      if (outcome.kind === 'retry') await this.store.park(endpoint.id, eventId, body, outcome.attempt, outcome.at);
      if (outcome.kind === 'failed') await this.store.markFailed(endpoint.id, eventId, body);
      return Outcome.done;
    } finally {
      this.lanes.release(endpoint.id);
    }
  }
}
