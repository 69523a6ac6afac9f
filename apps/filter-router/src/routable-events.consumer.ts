import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { idKey } from '@app/events';
import { DeadLetterReason, DURABLES, Headers, JetStreamConsumer, type HandleContext, type MessageHandler, Outcome, PublishUnavailableError, readRoutingHeaders } from '@app/messaging';
import { RouteEvent } from './route-event.usecase.js';

const PUBLISH_RETRY_MS = 1_000;

/** Routes each event past profile-sync. Partitioned by camera: a camera's deliveries are stored in its events' order. */
@Injectable()
@JetStreamConsumer({
  durable: DURABLES.filterRouter,
  stream: (topology) => topology.streams.routable,
  filterSubject: (topology) => topology.routableEvents,
  concurrency: 512,
  // Routing takes milliseconds; a short ack wait lets a crashed replica's events go out again soon.
  ackWaitMs: 10_000,
  partitionKey: (message) => idKey(message.headers?.get(Headers.cameraId) ?? ''),
})
export class RoutableEventsConsumer implements MessageHandler {
  constructor(private readonly routeEvent: RouteEvent) {}

  async handle(message: JsMsg, context: HandleContext): Promise<Outcome> {
    const eventId = message.headers?.get(Headers.eventId);
    if (!eventId) {
      return Outcome.skip(DeadLetterReason.MISSING_HEADERS, `missing ${Headers.eventId} header`);
    }
    const event = readRoutingHeaders(message.headers);
    if (!event) {
      return Outcome.skip(DeadLetterReason.MISSING_HEADERS, 'message lacks the routing headers ingest sets');
    }
    try {
      await this.routeEvent.execute(eventId, event, message.data, message.headers?.get(Headers.acceptedAt) || null, context);
      return Outcome.done;
    } catch (error) {
      if (error instanceof PublishUnavailableError) {
        // Deliveries already stored are de-duplicated by their message ids on the retry.
        return Outcome.retry(error.message, PUBLISH_RETRY_MS, error.retryCapMs);
      }
      throw error;
    }
  }
}
