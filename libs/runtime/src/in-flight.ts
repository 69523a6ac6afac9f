/**
 * Tasks under way, and a wait for fewer of them. The wait costs the same
 * however many are under way: `Promise.race` over all of them on every
 * message attached a reaction to each (hundreds per message at a consumer's
 * concurrency), which piled up on the slow ones and ran all at once when they
 * settled, blocking the event loop for seconds under a backlog
 * (docs/benchmarks.md, The whole pipeline).
 */
export class InFlight {
  private readonly tasks = new Set<Promise<unknown>>();
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.tasks.size;
  }

  /** Counts the task until it settles. Its outcome is the caller's: a rejection only ends the count here, unreported (the runners' tasks handle their own failures). */
  add(task: Promise<unknown>): void {
    this.tasks.add(task);
    const settled = () => {
      this.tasks.delete(task);
      if (this.waiters.length === 0) return;
      const waiters = this.waiters;
      this.waiters = [];
      for (const wake of waiters) wake();
    };
    task.then(settled, settled);
  }

  /** Resolves once fewer than `limit` tasks are under way. */
  async below(limit: number): Promise<void> {
    while (this.tasks.size >= limit) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once every task under way now has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.tasks]);
  }
}
