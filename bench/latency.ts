import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { checkWaitGuards, waitFor, WaitTimeoutError } from '../test/support/wait.js';

export interface RunFigures {
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  received: number;
}

/**
 * Publishes `events` (at `ratePerSecond`, or as fast as a window of 256
 * unacknowledged publishes allows) and waits until every one was received
 * (at most a minute: the figures then count those that were). With
 * `tracked`, only the events it picks are waited for and measured (the
 * others are load that is not expected to arrive).
 * `publish` resolves on the stream's ack; the receiver calls `arrived(id)`.
 * An app of the run that dies ends it at once with the app's output (the
 * guards of test/support/wait.ts).
 */
export async function runLoad<E extends { id: string; data: Uint8Array }>(
  events: E[],
  publish: (event: E) => Promise<unknown>,
  onArrival: (arrived: (id: string) => void) => void,
  ratePerSecond: number | null,
  tracked: (index: number) => boolean = () => true,
): Promise<RunFigures> {
  const sentAt = new Map<string, number>();
  let expected = 0;
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  let received = 0;
  let lastArrival = 0;
  onArrival((id) => {
    const sent = sentAt.get(id);
    if (sent === undefined) return;
    sentAt.delete(id);
    lastArrival = performance.now();
    histogram.recordValue(Math.max(1, Math.round((lastArrival - sent) * 1_000)));
    received += 1;
  });

  const started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < events.length; i += 1) {
    checkWaitGuards();
    if (ratePerSecond !== null) {
      const due = started + (i * 1_000) / ratePerSecond;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const event = events[i]!;
    if (tracked(i)) {
      sentAt.set(event.id, performance.now());
      expected += 1;
    }
    const task = publish(event).finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (inFlight.size >= 256) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  // Polled rather than awaited: the stamps are taken on arrival, and polling lets a dead app end the wait.
  await waitFor(() => received === expected, { timeoutMs: 60_000, intervalMs: 10, what: `all ${expected} events to arrive` }).catch((error: Error) => {
    if (!(error instanceof WaitTimeoutError)) throw error;
  });
  const seconds = (lastArrival - started) / 1_000;
  return {
    eventsPerSecond: received / seconds,
    p50Ms: histogram.getValueAtPercentile(50) / 1_000,
    p99Ms: histogram.getValueAtPercentile(99) / 1_000,
    received,
  };
}
