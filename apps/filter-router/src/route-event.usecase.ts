import { Injectable, Logger } from '@nestjs/common';
import { eventLog } from '@app/runtime';
import { Headers, NatsClient, publishDurably, RoutingTable, type EndpointView, EndpointType } from '@app/messaging';
import { eventMessageId, idKey, type RoutingFields } from '@app/events';
import { ENDPOINT_TYPE_LABEL, RouterMetrics } from './router.metrics.js';

/**
 * Publishes one delivery per target endpoint on that endpoint's subject.
 * The body is the event's bytes unchanged; the message id
 * `<event id>:<endpoint id>` (their keys) makes a re-route after a crash
 * store each delivery once. Ingest's acceptance time, when the event
 * carries it, goes on in a header (the delivery latency metrics).
 */
@Injectable()
export class RouteEvent {
  private readonly logger = new Logger(RouteEvent.name);

  constructor(
    private readonly nats: NatsClient,
    private readonly routing: RoutingTable,
    private readonly metrics: RouterMetrics,
  ) {}

  /** `acceptedAt`: the event's Headers.acceptedAt as it came, if any; `turn`: what its deliveries are stored after (the camera's earlier events). */
  async execute(eventId: string, event: RoutingFields, body: Uint8Array, acceptedAt: string | null = null, turn?: Promise<void>): Promise<number> {
    // Matched with the config as it is when the event's turn in the stream comes, published after the camera's earlier events.
    const targets = this.routing.index.targets(event);
    await turn;
    await Promise.all(targets.map((endpoint) => this.deliver(endpoint, eventId, event.agentId, body, acceptedAt)));
    this.metrics.routed.inc();
    this.logger.debug(`routed to ${targets.length} endpoints`, ...eventLog(eventId));
    return targets.length;
  }

  private async deliver(endpoint: EndpointView, eventId: string, agentId: string, body: Uint8Array, acceptedAt: string | null): Promise<void> {
    const { topology } = this.nats;
    // Subjects and message ids are case-sensitive: they carry the ids' keys.
    const [eventKey, endpointKey] = [idKey(eventId), idKey(endpoint.id)];
    const subject = endpoint.type === EndpointType.WEB_SOCKET ? topology.websocketDeliveries(endpointKey, eventKey) : topology.webhookDeliveries(endpointKey);
    await publishDurably(this.nats, subject, body, {
      // By agent too: another agent's event re-using the id is a delivery of its own.
      messageId: `${eventMessageId(agentId, eventKey)}:${endpointKey}`,
      headers: { [Headers.eventId]: eventKey, [Headers.endpointId]: endpointKey, ...(acceptedAt ? { [Headers.acceptedAt]: acceptedAt } : {}) },
    });
    this.metrics.published.inc({ endpoint_type: ENDPOINT_TYPE_LABEL[endpoint.type] });
  }
}
