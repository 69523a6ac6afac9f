import { Injectable } from '@nestjs/common';
import { Counter, Gauge, type Histogram } from 'prom-client';
import { deliveryLatencyHistogram, HealthServer, secondsSince } from '@app/runtime';

/** websocket-gateway's metrics (docs/operations.md: Metrics). */
@Injectable()
export class GatewayMetrics {
  /** Event frames sent to clients: live, held during a catch-up, and history. */
  readonly framesSent: Counter;
  private readonly latency: Histogram<'endpoint_type'>;
  private connectionCount: () => number = () => 0;

  constructor(health: HealthServer) {
    const registers = [health.metrics];
    this.framesSent = new Counter({ name: 'event_service_websocket_frames_sent_total', help: 'Event frames the gateway sent to websocket clients (live and history)', registers });
    const metrics = this;
    new Gauge({
      name: 'event_service_websocket_connections',
      help: 'Websocket clients connected to this gateway replica',
      registers,
      collect() {
        this.set(metrics.connectionCount());
      },
    });
    this.latency = deliveryLatencyHistogram(health.metrics);
  }

  /** Where the connections gauge reads its value at scrape time. */
  countConnections(count: () => number): void {
    this.connectionCount = count;
  }

  /** A live delivery reached its first client: the time since ingest accepted its event (when it carries it). */
  delivered(acceptedAtMs: number | null): void {
    const seconds = secondsSince(acceptedAtMs);
    if (seconds !== null) this.latency.observe({ endpoint_type: 'websocket' }, seconds);
  }
}
