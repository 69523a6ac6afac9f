import { Injectable, Logger } from '@nestjs/common';
import { eventLog } from '@app/runtime';
import type { PubAck } from '@nats-io/jetstream';
import { Headers, NatsClient, publishDurably, RoutingTable, WebsocketPositions, type EndpointView, EndpointType, type HandleContext } from '@app/messaging';
import { eventMessageId, idKey, type RoutingFields } from '@app/events';
import { ENDPOINT_TYPE_LABEL, RouterMetrics } from './router.metrics.js';

/**
 * Publishes one delivery per target endpoint on that endpoint's subject.
 * The body is the event's bytes unchanged; the message id
 * `<event id>:<endpoint id>` (their keys) makes a re-route after a crash
 * store each delivery once. Ingest's acceptance time, when the event
 * carries it, goes on in a header (the delivery latency metrics). Once the
 * websocket deliveries are stored, where they sit is recorded
 * (WebsocketPositions) before the event counts as routed: a client can
 * resume after any event it was sent.
 */
@Injectable()
export class RouteEvent {
  private readonly logger = new Logger(RouteEvent.name);

  constructor(
    private readonly nats: NatsClient,
    private readonly routing: RoutingTable,
    private readonly metrics: RouterMetrics,
  ) {}

  /**
   * `acceptedAt`: the event's Headers.acceptedAt as it came, if any; `order`: its turn, what its deliveries are stored after
   * (the camera's earlier events), and how to pass the turn on once they are stored.
   */
  async execute(eventId: string, event: RoutingFields, body: Uint8Array, acceptedAt: string | null = null, order?: Pick<HandleContext, 'turn' | 'passTurn'>): Promise<number> {
    // Matched with the config as it is when the event's turn in the stream comes, published after the camera's earlier events.
    const targets = this.routing.index.targets(event);
    await order?.turn;
    const acks = await Promise.all(targets.map((endpoint) => this.deliver(endpoint, eventId, event.agentId, body, acceptedAt)));
    // The camera's next event need not wait for the positions record: its deliveries come after these whatever happens to it.
    order?.passTurn();
    const eventKey = idKey(eventId);
    const websocket = targets.flatMap((endpoint, index) => (endpoint.type === EndpointType.WEB_SOCKET ? [[idKey(endpoint.id), acks[index]!] as const] : []));
    await WebsocketPositions.record(this.nats, eventKey, websocket);
    this.metrics.routed.inc();
    this.logger.debug(`routed to ${targets.length} endpoints`, ...eventLog(eventId));
    return targets.length;
  }

  private async deliver(endpoint: EndpointView, eventId: string, agentId: string, body: Uint8Array, acceptedAt: string | null): Promise<PubAck> {
    const { topology } = this.nats;
    // Subjects and message ids are case-sensitive: they carry the ids' keys.
    const [eventKey, endpointKey] = [idKey(eventId), idKey(endpoint.id)];
    const subject = endpoint.type === EndpointType.WEB_SOCKET ? topology.websocketDeliveries(endpointKey) : topology.webhookDeliveries(endpointKey);
    const ack = await publishDurably(this.nats, subject, body, {
      // By agent too: another agent's event re-using the id is a delivery of its own.
      messageId: `${eventMessageId(agentId, eventKey)}:${endpointKey}`,
      headers: { [Headers.eventId]: eventKey, [Headers.endpointId]: endpointKey, ...(acceptedAt ? { [Headers.acceptedAt]: acceptedAt } : {}) },
    });
    this.metrics.published.inc({ endpoint_type: ENDPOINT_TYPE_LABEL[endpoint.type] });
    return ack;
  }
}
