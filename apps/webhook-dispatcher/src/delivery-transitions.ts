import type { RetryChange } from '@app/messaging';

/**
 * Where one webhook delivery is. A delivery starts FRESH (read from the
 * deliveries stream) and ends DONE or FAILED; in between it is in the ledger
 * (`delivery_retry`), WAITING for its time, HELD while its endpoint is not
 * active, or CLAIMED by one replica for an attempt. A ledger row says which
 * by its columns: `failed_at` set is FAILED, `held` is HELD, `locked_until`
 * in the future is CLAIMED, none of them is WAITING (due at
 * `next_attempt_at`); DONE has no row.
 */
export const DeliveryState = {
  /** Read from the deliveries stream; not in the ledger. */
  FRESH: 'FRESH',
  /** In the ledger, due at a time: a claim takes it then. */
  WAITING: 'WAITING',
  /** In the ledger, its endpoint paused (by hand or by failures): claims never read it, probes do. */
  HELD: 'HELD',
  /** In the ledger, taken by one replica for an attempt until its claim expires. */
  CLAIMED: 'CLAIMED',
  /** No more attempts: kept in the ledger, with its body, for resendDelivery. */
  FAILED: 'FAILED',
  /** Delivered, or its endpoint deleted: nothing is kept. */
  DONE: 'DONE',
} as const;
export type DeliveryState = (typeof DeliveryState)[keyof typeof DeliveryState];

/** The states a delivery is attempted from: fresh from the stream, or claimed from the ledger. */
export type AttemptedFrom = typeof DeliveryState.FRESH | typeof DeliveryState.CLAIMED;

/** What one attempt came to, as the retry policy judges the receiver's answer. */
export type AttemptVerdict =
  | { kind: 'delivered' }
  /** No more attempts: the schedule is spent, or the receiver answered 410 Gone (`gone`). */
  | { kind: 'failed'; gone: boolean }
  /** Attempt `attempt` is due at `at` (epoch milliseconds). */
  | { kind: 'retry'; attempt: number; at: number };

/** What happened to a delivery on its way to an attempt, or in it. */
export type DeliveryEvent =
  /**
   * A delivery the api re-sent (resend, replay), due at `at`: it goes to the
   * ledger first, replacing the copy kept there as failed, so that its
   * outcome replaces that copy's.
   */
  | { kind: 'resent'; at: number }
  /** Its endpoint is not in the config: `deleted` when the view is loaded, else not known here yet. */
  | { kind: 'unknown-endpoint'; deleted: boolean }
  /** Its endpoint answered 410 Gone before: nothing is sent until it is resumed. */
  | { kind: 'disabled' }
  /** Its endpoint is paused, by hand or by failures (and this is no probe). */
  | { kind: 'paused' }
  /** Every lane of its endpoint is taken, or its maxRatePerSecond is used up for `retryInMs`. */
  | { kind: 'busy'; retryInMs: number }
  /** A fresh delivery whose endpoint's earlier first attempts wait in the ledger: it waits behind them (FirstAttemptOrder). */
  | { kind: 'behind' }
  /** Its endpoint's signing material has not reached this replica: nothing was sent. */
  | { kind: 'unsigned' }
  | { kind: 'attempted'; verdict: AttemptVerdict };

/** Where a delivery goes, and what the ledger records of it. */
export interface Transition {
  to: DeliveryState;
  /** The ledger's part of the delivery's change record. */
  ledger: RetryChange;
  /** Dead-lettered rather than kept: a fresh delivery for an endpoint that does not exist. */
  deadLetter?: 'UNKNOWN_ENDPOINT';
  /**
   * A claim found the delivery's endpoint not active though the delivery was
   * not held: the endpoint's other waiting deliveries are to be held (or
   * failed) with it (RetryHolds.settle).
   */
  settlesEndpoint?: true;
}

/** A delivery whose endpoint is busy waits at least this long in the ledger (when a lane frees, not a tight loop). */
export const BUSY_DELAY_MS = 200;
/** A delivery that cannot go yet (its endpoint not in this replica's view, its secrets not arrived) is looked at again after this. */
export const NOT_YET_DELAY_MS = 1_000;

/**
 * The one table of a webhook delivery's transitions, for fresh deliveries
 * (the consumer) and claimed ones (the scheduler) alike: from where the
 * delivery is, its attempt number and what happened, where it goes and what
 * the ledger records. Pure: `now` is given.
 *
 * Whether a parked delivery is held is the ledger's to decide, from its
 * endpoint's state when the record is applied (RetryHolds): a delivery
 * parked because its endpoint is paused is HELD here; one parked for
 * another reason (busy, re-sent, unsigned) is WAITING here, and held too if
 * its endpoint is not active by then.
 */
export function transition(from: AttemptedFrom, attempt: number, event: DeliveryEvent, now: number): Transition {
  const park = (at: number, to: DeliveryState = DeliveryState.WAITING): Transition => ({ to, ledger: { kind: 'park', attempt, at: new Date(at).toISOString() } });
  const failed: Transition = { to: DeliveryState.FAILED, ledger: { kind: 'fail' } };
  switch (event.kind) {
    case 'resent':
      return park(event.at);
    case 'unknown-endpoint':
      // A fresh delivery for a deleted endpoint has nowhere to go; one not known here yet is redelivered.
      // A claimed one looks again later (a deletion takes its row with it).
      if (from === DeliveryState.CLAIMED) return park(now + NOT_YET_DELAY_MS);
      return event.deleted ? { to: DeliveryState.DONE, ledger: { kind: 'none' }, deadLetter: 'UNKNOWN_ENDPOINT' } : { to: DeliveryState.FRESH, ledger: { kind: 'none' } };
    case 'disabled':
      return from === DeliveryState.CLAIMED ? { ...failed, settlesEndpoint: true } : failed;
    case 'paused':
      return from === DeliveryState.CLAIMED ? { ...park(now, DeliveryState.HELD), settlesEndpoint: true } : park(now, DeliveryState.HELD);
    case 'busy':
      // A fresh delivery goes when its endpoint's rate has room; a claimed one no sooner than a lane may free.
      return park(now + (from === DeliveryState.FRESH ? event.retryInMs : Math.max(BUSY_DELAY_MS, event.retryInMs)));
    case 'behind':
      return park(now);
    case 'unsigned':
      return park(now + NOT_YET_DELAY_MS);
    case 'attempted': {
      const { verdict } = event;
      switch (verdict.kind) {
        case 'delivered':
          // A fresh delivery never was in the ledger.
          return { to: DeliveryState.DONE, ledger: { kind: from === DeliveryState.FRESH ? 'none' : 'remove' } };
        case 'retry':
          return { to: DeliveryState.WAITING, ledger: { kind: 'park', attempt: verdict.attempt, at: new Date(verdict.at).toISOString() } };
        case 'failed':
          return failed;
      }
    }
  }
}
