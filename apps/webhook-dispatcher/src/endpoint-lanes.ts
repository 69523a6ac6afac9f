const INITIAL_LIMIT = 4;

/**
 * Bounds the attempts in flight to each endpoint, so that a slow or dead
 * receiver holds a few slots, never the dispatcher's whole capacity. The
 * bound adapts (additive increase, multiplicative decrease): each success
 * raises an endpoint's limit by one up to the maximum, each failure halves it
 * down to one.
 */
export class EndpointLanes {
  private readonly inFlight = new Map<string, number>();
  private readonly limits = new Map<string, number>();

  constructor(private readonly maxPerEndpoint: number) {}

  limitOf(endpointId: string): number {
    return this.limits.get(endpointId) ?? Math.min(INITIAL_LIMIT, this.maxPerEndpoint);
  }

  tryAcquire(endpointId: string): boolean {
    const used = this.inFlight.get(endpointId) ?? 0;
    if (used >= this.limitOf(endpointId)) return false;
    this.inFlight.set(endpointId, used + 1);
    return true;
  }

  release(endpointId: string): void {
    const used = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (used > 0) this.inFlight.set(endpointId, used);
    else this.inFlight.delete(endpointId);
  }

  succeeded(endpointId: string): void {
    this.limits.set(endpointId, Math.min(this.maxPerEndpoint, this.limitOf(endpointId) + 1));
  }

  failed(endpointId: string): void {
    this.limits.set(endpointId, Math.max(1, Math.floor(this.limitOf(endpointId) / 2)));
  }
}
