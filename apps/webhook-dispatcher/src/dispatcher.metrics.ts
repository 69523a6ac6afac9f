import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { ATTEMPT_DURATION_BUCKETS, deliveryLatencyHistogram, HealthServer, LATENCY_BUCKETS, secondsSince, STATUS_CLASSES, statusClassOf } from '@app/runtime';

/** Every way an attempt ends, as the metrics label it. */
export const ATTEMPT_OUTCOME_LABELS = ['delivered', 'retry', 'failed'] as const;
export type AttemptOutcomeLabel = (typeof ATTEMPT_OUTCOME_LABELS)[number];
/** Why a fresh delivery was parked before its first attempt, as the metrics label it. */
export const PARKED_REASON_LABELS = ['busy', 'paused', 'behind', 'resent', 'other'] as const;
export type ParkedReasonLabel = (typeof PARKED_REASON_LABELS)[number];

/** webhook-dispatcher's metrics (docs/operations.md: Metrics). */
@Injectable()
export class DispatcherMetrics {
  private readonly attempts: Counter<'outcome' | 'status_class'>;
  private readonly attemptDuration: Histogram;
  private readonly latency: Histogram<'endpoint_type'>;
  private readonly successLatency: Histogram;
  private readonly parkedFirst: Counter<'reason'>;

  constructor(health: HealthServer) {
    const registers = [health.metrics];
    this.attempts = new Counter({
      name: 'event_service_webhook_attempts_total',
      help: 'Webhook attempts made, by outcome (delivered, retry, failed) and the status class of the answer (2xx … 5xx, none: no answer)',
      labelNames: ['outcome', 'status_class'],
      registers,
    });
    // Every series exists from the start, at 0: increase() over a series that first appears at 1 is 0,
    // and the given-up alert would miss the first delivery given up.
    for (const outcome of ATTEMPT_OUTCOME_LABELS) for (const status_class of STATUS_CLASSES) this.attempts.inc({ outcome, status_class }, 0);
    this.attemptDuration = new Histogram({
      name: 'event_service_webhook_attempt_duration_seconds',
      help: 'Seconds one webhook attempt took, connection to last byte of the answer (or to the failure)',
      buckets: ATTEMPT_DURATION_BUCKETS,
      registers,
    });
    this.parkedFirst = new Counter({
      name: 'event_service_webhook_parked_total',
      help: 'Fresh webhook deliveries parked in the ledger before their first attempt, by why (busy: every lane taken and none turning over, or the rate cap; paused; behind: the endpoint\'s earlier first attempts wait there; resent; other)',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of PARKED_REASON_LABELS) this.parkedFirst.inc({ reason }, 0);
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

  /** A fresh delivery parked before its first attempt. */
  parked(reason: ParkedReasonLabel): void {
    this.parkedFirst.inc({ reason });
  }
}
