import { describe, expect, it } from '@jest/globals';
import { EndpointState, type EndpointHealth } from '@app/messaging';
import { EndpointHealthTracker } from './endpoint-health-tracker.js';
import type { AttemptVerdict } from './delivery-transitions.js';

const NOW = Date.parse('2026-12-06T10:00:00Z');

/** The health records the tracker publishes, kept in order. */
function records(): { put: (endpointId: string, health: EndpointHealth) => Promise<void>; puts: Array<[string, EndpointHealth]> } {
  const puts: Array<[string, EndpointHealth]> = [];
  return { puts, put: async (endpointId, health) => void puts.push([endpointId, health]) };
}

const active = { id: 'a', state: EndpointState.ACTIVE, resumeGeneration: 0 };
const delivered: AttemptVerdict = { kind: 'delivered' };
const failed: AttemptVerdict = { kind: 'retry', attempt: 2, at: NOW + 5_000 };
const gone: AttemptVerdict = { kind: 'failed', gone: true };

describe('the endpoint health tracker', () => {
  it('pauses an endpoint after the set number of failures in a row, once, and publishes that record', async () => {
    const published = records();
    const tracker = new EndpointHealthTracker(published, 3);
    expect([tracker.observe(active, failed, NOW), tracker.observe(active, failed, NOW)]).toEqual([null, null]);
    const paused = { state: EndpointState.PAUSED_BY_FAILURES, resumeGeneration: 0, decidedAt: new Date(NOW).toISOString() };
    const change = tracker.observe(active, failed, NOW);
    expect(change?.health).toEqual(paused);
    // Attempts that started before the pause reached the view fail too: decided once.
    expect(tracker.observe(active, failed, NOW)).toBeNull();
    await change?.landed;
    expect(published.puts).toEqual([['a', paused]]);
  });

  it('starts counting again after a success', () => {
    const tracker = new EndpointHealthTracker(records(), 3);
    tracker.observe(active, failed, NOW);
    tracker.observe(active, failed, NOW);
    expect(tracker.observe(active, delivered, NOW)).toBeNull();
    expect([tracker.observe(active, failed, NOW), tracker.observe(active, failed, NOW)]).toEqual([null, null]);
  });

  it('pauses again after a resume by hand (a new resume generation) when the failures go on', () => {
    const tracker = new EndpointHealthTracker(records(), 1);
    expect(tracker.observe(active, failed, NOW)?.health.state).toBe(EndpointState.PAUSED_BY_FAILURES);
    expect(tracker.observe({ ...active, resumeGeneration: 1 }, failed, NOW + 1)?.health).toEqual({
      state: EndpointState.PAUSED_BY_FAILURES,
      resumeGeneration: 1,
      decidedAt: new Date(NOW + 1).toISOString(),
    });
  });

  it('resumes an endpoint paused by failures when a probe succeeds, and disables one that answers 410 Gone', () => {
    const tracker = new EndpointHealthTracker(records(), 20);
    expect(tracker.observe({ ...active, state: EndpointState.PAUSED_BY_FAILURES }, delivered, NOW)?.health.state).toBe(EndpointState.ACTIVE);
    expect(tracker.observe(active, gone, NOW)?.health.state).toBe(EndpointState.DISABLED_GONE);
    expect(tracker.observe({ ...active, state: EndpointState.DISABLED_GONE }, gone, NOW)).toBeNull();
  });

  it('counts a delivery given up because the schedule is spent as a failure, like a retry', () => {
    const tracker = new EndpointHealthTracker(records(), 2);
    expect(tracker.observe(active, { kind: 'failed', gone: false }, NOW)).toBeNull();
    expect(tracker.observe(active, failed, NOW)?.health.state).toBe(EndpointState.PAUSED_BY_FAILURES);
  });

  it('never touches an endpoint paused by hand', () => {
    const tracker = new EndpointHealthTracker(records(), 1);
    expect(tracker.observe({ ...active, state: EndpointState.PAUSED_BY_HAND }, failed, NOW)).toBeNull();
  });
});
