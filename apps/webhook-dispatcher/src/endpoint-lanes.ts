const INITIAL_LIMIT = 4;
/** Deliveries that may wait in memory for one endpoint's lane; beyond it they wait in PostgreSQL. */
const MAX_WAITING = 32;

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
  private readonly waiting = new Map<string, Array<() => void>>();

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

  /**
   * A lane now, or after the attempts ahead of it when few are waiting;
   * false at once when the endpoint already has its share waiting (a slow
   * receiver must not fill the consumer's window).
   */
  async acquire(endpointId: string): Promise<boolean> {
    if (this.tryAcquire(endpointId)) return true;
    const queue = this.waiting.get(endpointId) ?? [];
    if (queue.length >= MAX_WAITING) return false;
    this.waiting.set(endpointId, queue);
    await new Promise<void>((granted) => queue.push(granted));
    return true;
  }

  /** A release of a lane taken for `endpointId` that may be called more than once and releases once. */
  releaserOf(endpointId: string): () => void {
    let held = true;
    return () => {
      if (held) this.release(endpointId);
      held = false;
    };
  }

  release(endpointId: string): void {
    const queue = this.waiting.get(endpointId);
    const used = this.inFlight.get(endpointId) ?? 1;
    if (queue && queue.length > 0 && used <= this.limitOf(endpointId)) {
      // The lane passes straight to the next waiting delivery.
      const next = queue.shift()!;
      if (queue.length === 0) this.waiting.delete(endpointId);
      next();
      return;
    }
    if (used - 1 > 0) this.inFlight.set(endpointId, used - 1);
    else this.inFlight.delete(endpointId);
  }

  /** Endpoints with every lane taken: their parked deliveries are not worth claiming now. */
  busyEndpoints(): string[] {
    return [...this.inFlight].filter(([endpointId, used]) => used >= this.limitOf(endpointId)).map(([endpointId]) => endpointId);
  }

  succeeded(endpointId: string): void {
    this.limits.set(endpointId, Math.min(this.maxPerEndpoint, this.limitOf(endpointId) + 1));
  }

  failed(endpointId: string): void {
    this.limits.set(endpointId, Math.max(1, Math.floor(this.limitOf(endpointId) / 2)));
  }
}
