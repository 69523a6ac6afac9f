import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { ATTEMPT_DURATION_BUCKETS, deliveryLatencyHistogram, HealthServer, LATENCY_BUCKETS, secondsSince, statusClassOf } from '@app/runtime';

/** How an attempt ended, as the metrics label it. */
export type AttemptOutcomeLabel = 'delivered' | 'retry' | 'failed';

/** webhook-dispatcher's metrics (docs/operations.md: Metrics). */
@Injectable()
export class DispatcherMetrics {
  private readonly attempts: Counter<'outcome' | 'status_class'>;
  private readonly attemptDuration: Histogram;
  private readonly latency: Histogram<'endpoint_type'>;
  private readonly successLatency: Histogram;

  constructor(health: HealthServer) {
    const registers = [health.metrics];
    this.attempts = new Counter({
      name: 'event_service_webhook_attempts_total',
      help: 'Webhook attempts made, by outcome (delivered, retry, failed) and the status class of the answer (2xx … 5xx, none: no answer)',
      labelNames: ['outcome', 'status_class'],
      registers,
    });
    this.attemptDuration = new Histogram({
      name: 'event_service_webhook_attempt_duration_seconds',
      help: 'Seconds one webhook attempt took, connection to last byte of the answer (or to the failure)',
      buckets: ATTEMPT_DURATION_BUCKETS,
      registers,
    });
    this.latency = deliveryLatencyHistogram(health.metrics);
    this.successLatency = new Histogram({
      name: 'event_service_webhook_success_latency_seconds',
      help: "Seconds from ingest's acceptance of an event to the webhook attempt that delivered it (retries included)",
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /**
   * One attempt answered `status` (null: no answer) after `durationMs`.
   * `acceptedAtMs`: when ingest accepted its event (null: unknown, a resend or a replay).
   */
  attempted(attempt: number, outcome: AttemptOutcomeLabel, status: number | null, durationMs: number, acceptedAtMs: number | null): void {
    this.attempts.inc({ outcome, status_class: statusClassOf(status) });
    this.attemptDuration.observe(durationMs / 1_000);
    const since = secondsSince(acceptedAtMs);
    if (since === null) return;
    if (attempt === 1) this.latency.observe({ endpoint_type: 'webhook' }, since);
    if (outcome === 'delivered') this.successLatency.observe(since);
  }
}
