import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The metrics more than one app has, defined once. Each app's own metrics
 * live in its `<app>.metrics.ts`; all of them are registered on the app's
 * HealthServer registry and listed in docs/operations.md (Metrics).
 *
 * Label values are always codes from a fixed set (a reason, an endpoint
 * type, a status class), never an id or free text: a label value is a time
 * series of its own in Prometheus.
 */

/** Latency buckets in seconds: milliseconds on the live path up to the retry schedule's hours. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3_600, 10_800, 43_200, 86_400];

/** Buckets of one webhook attempt (the timeout is 15 s by default). */
export const ATTEMPT_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60];

/** Every StatusClass, for series created at 0 up front. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;

/** An HTTP status as its class; `none` when there was no answer (timeout, refused, reset). */
export type StatusClass = (typeof STATUS_CLASSES)[number];

export function statusClassOf(status: number | null): StatusClass {
  if (status === null || status < 100 || status > 599) return 'none';
  return `${Math.floor(status / 100)}xx` as StatusClass;
}

/** Seconds from `sinceMs` (epoch milliseconds) to now; null when the start is unknown. */
export function secondsSince(sinceMs: number | null, now = Date.now()): number | null {
  return sinceMs === null ? null : Math.max(0, (now - sinceMs) / 1_000);
}

/** Registered once per registry: several providers of one app may ask for the same shared metric. */
function shared<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}

/** `event_service_delivery_latency_seconds{endpoint_type}`: from ingest's acceptance of an event to its first sending to an endpoint. */
export function deliveryLatencyHistogram(registry: Registry): Histogram<'endpoint_type'> {
  const name = 'event_service_delivery_latency_seconds';
  return shared(
    registry,
    name,
    () =>
      new Histogram({
        name,
        help: "Seconds from ingest's acceptance of an event to its websocket frame sent (websocket) or its first webhook attempt answered (webhook)",
        labelNames: ['endpoint_type'],
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      }),
  );
}

/** `event_service_dead_letters_total{app, reason}`: messages recorded in the dead letters, by DeadLetterReason. */
export function deadLettersCounter(registry: Registry): Counter<'app' | 'reason'> {
  const name = 'event_service_dead_letters_total';
  return shared(
    registry,
    name,
    () => new Counter({ name, help: 'Messages recorded in the dead letters (they can never succeed), by reason code', labelNames: ['app', 'reason'], registers: [registry] }),
  );
}

/**
 * The two gauges of a JetStream consumer's backlog. Both call `collect` at
 * scrape time (prom-client reads the metrics of a scrape concurrently): it
 * should take one sample for both and set them.
 */
export function consumerBacklogGauges(registry: Registry, collect: () => Promise<void>): { pending: Gauge<'consumer'>; ackPending: Gauge<'consumer'> } {
  const pending = new Gauge({
    name: 'event_service_consumer_pending_messages',
    help: 'Messages of the stream its JetStream consumer has not delivered yet (its lag); absent while NATS does not answer',
    labelNames: ['consumer'],
    registers: [registry],
    collect,
  });
  const ackPending = new Gauge({
    name: 'event_service_consumer_ack_pending',
    help: 'Messages its JetStream consumer delivered and that are not acknowledged yet; absent while NATS does not answer',
    labelNames: ['consumer'],
    registers: [registry],
    collect,
  });
  return { pending, ackPending };
}
