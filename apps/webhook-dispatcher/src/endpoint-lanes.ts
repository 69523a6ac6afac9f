const INITIAL_LIMIT = 4;
/** Deliveries that may wait in memory for one endpoint's lane; beyond it they wait in PostgreSQL. */
const MAX_WAITING = 32;
/** Deliveries that may wait in memory for lanes, all endpoints together: a share of the consumer's window, never all of it. */
const MAX_WAITING_IN_ALL = 256;
/**
 * A delivery waits in memory only for an endpoint whose lanes turn over: one
 * whose receiver answered (or that took its first lane) this recently. A
 * receiver that holds every request (black-holed, or slow) gets its
 * deliveries parked at once, and a timeout does not count as turning over.
 */
const TURNOVER_MS = 1_000;

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
  private readonly turnedOverAt = new Map<string, number>();
  private readonly unanswering = new Set<string>();
  private waitingInAll = 0;

  constructor(
    private readonly maxPerEndpoint: number,
    /** The clock (epoch milliseconds); given in the unit spec. */
    private readonly now: () => number = Date.now,
  ) {}

  limitOf(endpointId: string): number {
    return this.limits.get(endpointId) ?? Math.min(INITIAL_LIMIT, this.maxPerEndpoint);
  }

  tryAcquire(endpointId: string): boolean {
    const used = this.inFlight.get(endpointId) ?? 0;
    if (used >= this.limitOf(endpointId)) return false;
    // An idle endpoint starting again turns over, unless its receiver's last attempt got no answer.
    if (used === 0 && !this.unanswering.has(endpointId)) this.turnedOverAt.set(endpointId, this.now());
    this.inFlight.set(endpointId, used + 1);
    return true;
  }

  /**
   * A lane now, or after the attempts ahead of it when few are waiting and
   * the endpoint's lanes turn over; false at once otherwise (a slow or dead
   * receiver, or many endpoints together, must not fill the consumer's window).
   */
  async acquire(endpointId: string): Promise<boolean> {
    if (this.tryAcquire(endpointId)) return true;
    const queue = this.waiting.get(endpointId) ?? [];
    const turningOver = this.now() - (this.turnedOverAt.get(endpointId) ?? 0) < TURNOVER_MS;
    if (queue.length >= MAX_WAITING || this.waitingInAll >= MAX_WAITING_IN_ALL || !turningOver) return false;
    this.waiting.set(endpointId, queue);
    this.waitingInAll += 1;
    await new Promise<void>((granted) => queue.push(granted));
    this.waitingInAll -= 1;
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

  /** The receiver answered an attempt (whatever the status): its lanes turn over. */
  answered(endpointId: string): void {
    this.turnedOverAt.set(endpointId, this.now());
    this.unanswering.delete(endpointId);
  }

  /** An attempt got no answer (a timeout, a refused or reset connection). */
  unanswered(endpointId: string): void {
    this.unanswering.add(endpointId);
  }

  succeeded(endpointId: string): void {
    this.limits.set(endpointId, Math.min(this.maxPerEndpoint, this.limitOf(endpointId) + 1));
  }

  failed(endpointId: string): void {
    this.limits.set(endpointId, Math.max(1, Math.floor(this.limitOf(endpointId) / 2)));
  }
}
