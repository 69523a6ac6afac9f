import type { DeliveryOutcome } from './delivery-outcome.js';

/** One line of the delivery log. */
export interface AttemptLine {
  attempt: number;
  attemptedAt: string;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  outcome: DeliveryOutcome;
}

/** What becomes of the delivery in the retry store. */
export type RetryChange =
  /** A fresh delivery that succeeded: it never was in the retry store. */
  | { kind: 'none' }
  /** A parked delivery that is done with: removed. */
  | { kind: 'remove' }
  /** Waits for attempt `attempt`, due at `at` (ISO time). */
  | { kind: 'park'; attempt: number; at: string }
  /** No more attempts; kept with its body for resendDelivery. */
  | { kind: 'fail' };

/**
 * A change of one delivery, as the dispatcher decided it: the attempt it
 * made (if any) and what becomes of the delivery in the ledger. Published to the attempts stream before the
 * delivery is acked, and projected into PostgreSQL from there, in order and
 * idempotently: so an attempt is recorded, and a retry parked, even while
 * PostgreSQL is away, and a receiver never sees an attempt twice because
 * PostgreSQL could not take its outcome.
 */
export interface DeliveryChange {
  /** The change's own id (a UUID): its message id in the stream, and its delivery log line's key. */
  id: string;
  endpointId: string;
  eventId: string;
  log: AttemptLine | null;
  retry: RetryChange;
  /**
   * The event JSON, base64, when a fresh delivery is parked or kept as
   * failed; a claimed delivery's row in the ledger holds it already.
   */
  body?: string;
  /** When ingest accepted the event (ISO time), when the delivery is parked and it is known: kept for the success latency metric. */
  acceptedAt?: string;
  /**
   * A fresh delivery parked before its first attempt (its endpoint busy or
   * paused): its message's sequence in the deliveries stream, its place
   * among its endpoint's first attempts.
   */
  firstSeq?: number;
}
