import type { WebhookMeta } from '@app/messaging';

/**
 * The most deliveries per second an integrator allows an endpoint
 * (`maxRatePerSecond`, for receivers that cannot take bursts): a token
 * bucket per endpoint holding one second's worth. Kept by each dispatcher
 * replica for itself: with n replicas an endpoint may get up to n times it.
 *
 * A delivery that finds no token is given the next time not promised to
 * one turned away before it, so a backlog waits in the ledger spread at the
 * endpoint's rate, each delivery put back once, rather than all coming back
 * at the next token and all but one being put back again.
 */
export class EndpointRates {
  private readonly buckets = new Map<string, { tokens: number; at: number; perSecond: number; promisedUntil: number }>();

  /** `now`: the clock (epoch milliseconds); given in the unit spec. */
  constructor(private readonly now: () => number = Date.now) {}

  /** Endpoints with no token now (their parked deliveries are not worth claiming yet). */
  exhausted(): string[] {
    const now = this.now();
    const ids: string[] = [];
    for (const [endpointId, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1_000) * bucket.perSecond < 1) ids.push(endpointId);
    }
    return ids;
  }

  /** How many deliveries of the endpoint may go now (Infinity when it has no maxRatePerSecond here). */
  available(endpointId: string): number {
    const bucket = this.buckets.get(endpointId);
    if (!bucket) return Infinity;
    return Math.floor(Math.min(bucket.perSecond, bucket.tokens + ((this.now() - bucket.at) / 1_000) * bucket.perSecond));
  }

  /** 0 when a delivery may go now (it took a token); else the milliseconds until the time promised to it. */
  take(endpointId: string, perSecond: number | undefined): number {
    if (!perSecond) {
      this.buckets.delete(endpointId);
      return 0;
    }
    const now = this.now();
    const bucket = this.buckets.get(endpointId) ?? { tokens: perSecond, at: now, perSecond, promisedUntil: 0 };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) / 1_000) * perSecond);
    bucket.at = now;
    bucket.perSecond = perSecond;
    this.buckets.set(endpointId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    const nextToken = now + ((1 - bucket.tokens) / perSecond) * 1_000;
    bucket.promisedUntil = Math.max(nextToken, bucket.promisedUntil + 1_000 / perSecond);
    return Math.ceil(bucket.promisedUntil - now);
  }
}

/** A webhook's `maxRatePerSecond`, if set. */
export function maxRateOf(meta: WebhookMeta): number | undefined {
  const rate = meta.maxRatePerSecond;
  return rate !== undefined && rate > 0 ? rate : undefined;
}
