import { describe, expect, it } from '@jest/globals';
import { InFlight } from './in-flight.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((yes, no) => ([resolve, reject] = [yes, no]));
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

describe('InFlight', () => {
  it('lets a caller on once fewer than the limit are under way, whichever task settles', async () => {
    const inFlight = new InFlight();
    const [slow, fast] = [deferred(), deferred()];
    inFlight.add(slow.promise);
    inFlight.add(fast.promise);
    const order: string[] = [];
    const waiting = inFlight.below(2).then(() => order.push('below'));

    await Promise.resolve();
    order.push('fast settles');
    fast.reject(new Error('a failed task counts as settled'));
    await waiting;

    expect(order).toEqual(['fast settles', 'below']);
    expect(inFlight.size).toBe(1);
    slow.resolve();
    await inFlight.settled();
    expect(inFlight.size).toBe(0);
  });

  it('wakes every caller waiting, each once there is room for it', async () => {
    const inFlight = new InFlight();
    const tasks = [deferred(), deferred(), deferred()];
    for (const task of tasks) inFlight.add(task.promise);
    const woken: number[] = [];
    const waits = [inFlight.below(3).then(() => woken.push(3)), inFlight.below(2).then(() => woken.push(2))];

    tasks[0]!.resolve();
    await waits[0];
    expect(woken).toEqual([3]);
    tasks[1]!.resolve();
    await waits[1];
    expect(woken).toEqual([3, 2]);
    tasks[2]!.resolve();
    await inFlight.settled();
  });

  it('resolves at once below the limit, and settled() at once when nothing is under way', async () => {
    const inFlight = new InFlight();
    await inFlight.below(1);
    await inFlight.settled();
    expect(inFlight.size).toBe(0);
  });
});
