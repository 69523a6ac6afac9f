import { Injectable } from '@nestjs/common';
import { Headers, NatsClient, publishDurably, type EndpointView, EndpointType } from '@app/messaging';
import { idKey, type RoutingFields } from '@app/events';
import { RoutingTable } from './routing-table.js';

/**
 * Publishes one delivery per target endpoint on that endpoint's subject.
 * The body is the event's bytes unchanged; the message id
 * `<event id>:<endpoint id>` (their keys) makes a re-route after a crash
 * store each delivery once.
 */
@Injectable()
export class RouteEvent {
  constructor(
    private readonly nats: NatsClient,
    private readonly routing: RoutingTable,
  ) {}

  async execute(eventId: string, event: RoutingFields, body: Uint8Array): Promise<number> {
    const targets = this.routing.index.targets(event);
    await Promise.all(targets.map((endpoint) => this.deliver(endpoint, eventId, body)));
    return targets.length;
  }

  private deliver(endpoint: EndpointView, eventId: string, body: Uint8Array): Promise<unknown> {
    const { topology } = this.nats;
    // Subjects and message ids are case-sensitive: they carry the ids' keys.
    const [eventKey, endpointKey] = [idKey(eventId), idKey(endpoint.id)];
    const subject = endpoint.type === EndpointType.WEB_SOCKET ? topology.websocketDeliveries(endpointKey, eventKey) : topology.webhookDeliveries(endpointKey);
    return publishDurably(this.nats, subject, body, {
      messageId: `${eventKey}:${endpointKey}`,
      headers: { [Headers.eventId]: eventKey, [Headers.endpointId]: endpointKey },
    });
  }
}
