import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { ENDPOINT_TYPES, EndpointType } from '@app/messaging';
import { HealthServer } from '@app/runtime';

/** The label of an endpoint type in metrics. */
export const ENDPOINT_TYPE_LABEL: Record<EndpointType, 'websocket' | 'webhook'> = {
  [EndpointType.WEB_SOCKET]: 'websocket',
  [EndpointType.WEB_HOOK]: 'webhook',
};

/** filter-router's metrics (docs/operations.md: Metrics). */
@Injectable()
export class RouterMetrics {
  /** Events matched against the filters and done with (whether they matched any endpoint or none). */
  readonly routed: Counter;
  /** Deliveries stored on the endpoints' subjects, by endpoint type. */
  readonly published: Counter<'endpoint_type'>;

  constructor(health: HealthServer) {
    const registers = [health.metrics];
    this.routed = new Counter({ name: 'event_service_events_routed_total', help: 'Events filter-router matched against the event filters and routed (to any number of endpoints)', registers });
    this.published = new Counter({
      name: 'event_service_deliveries_published_total',
      help: 'Deliveries filter-router published, one per event and target endpoint, by endpoint type (websocket, webhook)',
      labelNames: ['endpoint_type'],
      registers,
    });
    for (const type of ENDPOINT_TYPES) this.published.inc({ endpoint_type: ENDPOINT_TYPE_LABEL[type] }, 0);
  }
}
