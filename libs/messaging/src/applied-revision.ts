/**
 * The newest config bucket revision a view has applied, and the callers
 * waiting for one (the config barrier's answer "applied" comes from here).
 */
export class AppliedRevision {
  private readonly waiters = new Set<{ revision: number; settle: (reached: boolean) => void }>();
  private applied = 0;

  get value(): number {
    return this.applied;
  }

  /** Moves to `revision` if it is newer, and releases those waiting for it. */
  advance(revision: number): void {
    this.applied = Math.max(this.applied, revision);
    for (const waiter of this.waiters) if (waiter.revision <= this.applied) waiter.settle(true);
  }

  /** True once `revision` is applied (at once if it is), false if `timeoutMs` passes first or the view stops. */
  async reached(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.applied >= revision) return true;
    let waiter!: { revision: number; settle: (reached: boolean) => void };
    let timer!: NodeJS.Timeout;
    const reached = new Promise<boolean>((resolve) => {
      waiter = { revision, settle: resolve };
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    this.waiters.add(waiter);
    try {
      return await reached;
    } finally {
      clearTimeout(timer);
      this.waiters.delete(waiter);
    }
  }

  /** The view stopped: nobody waits any longer. */
  release(): void {
    for (const waiter of this.waiters) waiter.settle(false);
  }
}
