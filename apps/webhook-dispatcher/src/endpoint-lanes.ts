/**
 * Bounds the attempts in flight to each endpoint, so that a slow or dead
 * receiver holds a few slots, never the dispatcher's whole capacity.
 */
export class EndpointLanes {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly perEndpoint: number) {}

  tryAcquire(endpointId: string): boolean {
    const used = this.inFlight.get(endpointId) ?? 0;
    if (used >= this.perEndpoint) return false;
    this.inFlight.set(endpointId, used + 1);
    return true;
  }

  release(endpointId: string): void {
    const used = (this.inFlight.get(endpointId) ?? 1) - 1;
    if (used > 0) this.inFlight.set(endpointId, used);
    else this.inFlight.delete(endpointId);
  }
}
