/**
 * The most deliveries per second an integrator allows an endpoint
 * (`maxRatePerSecond`, for receivers that cannot take bursts): a token
 * bucket per endpoint holding one second's worth. Kept by each dispatcher
 * replica for itself: with n replicas an endpoint may get up to n times it.
 */
export class EndpointRates {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** 0 when a delivery may go now (it took a token); else the milliseconds until the next token. */
  take(endpointId: string, perSecond: number | undefined): number {
    if (!perSecond) return 0;
    const now = Date.now();
    const bucket = this.buckets.get(endpointId) ?? { tokens: perSecond, at: now };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) / 1_000) * perSecond);
    bucket.at = now;
    this.buckets.set(endpointId, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / perSecond) * 1_000);
  }
}

/** An endpoint's `maxRatePerSecond` (in its meta), if set. */
export function maxRateOf(meta: Record<string, unknown>): number | undefined {
  const rate = meta.maxRatePerSecond;
  return typeof rate === 'number' && rate > 0 ? rate : undefined;
}
