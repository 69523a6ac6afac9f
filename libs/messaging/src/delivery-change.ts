import type { DeliveryOutcome } from '@app/domain';

export { DeliveryOutcome } from '@app/domain';

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
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One message of the attempts stream: a JSON array of changes, in the order they were made. */
export function encodeChanges(changes: DeliveryChange[]): Uint8Array {
  return encoder.encode(JSON.stringify(changes));
}

const isChange = (value: DeliveryChange): boolean =>
  typeof value?.id === 'string' && typeof value.endpointId === 'string' && typeof value.eventId === 'string' && typeof value.retry?.kind === 'string';

/** Null when the bytes are not an array of change records. */
export function decodeChanges(data: Uint8Array): DeliveryChange[] | null {
  try {
    const value = JSON.parse(decoder.decode(data)) as DeliveryChange[];
    return Array.isArray(value) && value.every(isChange) ? value : null;
  } catch {
    return null;
  }
}
