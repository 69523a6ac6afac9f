import { describe, expect, it } from '@jest/globals';
import { EndpointLanes } from './endpoint-lanes.js';

/** A clock the spec moves by hand. */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('endpoint lanes', () => {
  it('starts an endpoint at 4 lanes, adds one per success up to the maximum and halves them per failure down to one', () => {
    const lanes = new EndpointLanes(6, clock().now);
    expect(lanes.limitOf('a')).toBe(4);
    for (let i = 0; i < 5; i += 1) lanes.succeeded('a');
    expect(lanes.limitOf('a')).toBe(6);
    lanes.failed('a');
    expect(lanes.limitOf('a')).toBe(3);
    for (let i = 0; i < 5; i += 1) lanes.failed('a');
    expect(lanes.limitOf('a')).toBe(1);
    // Endpoints are apart.
    expect(lanes.limitOf('b')).toBe(4);
  });

  it('gives no lane beyond the limit, and names the endpoints whose lanes are all taken', () => {
    const lanes = new EndpointLanes(2, clock().now);
    expect([lanes.tryAcquire('a'), lanes.tryAcquire('a'), lanes.tryAcquire('a')]).toEqual([true, true, false]);
    expect(lanes.tryAcquire('b')).toBe(true);
    expect(lanes.busyEndpoints()).toEqual(['a']);
    lanes.release('a');
    expect(lanes.busyEndpoints()).toEqual([]);
    expect(lanes.tryAcquire('a')).toBe(true);
  });

  it('lets a fresh delivery wait for a lane of an endpoint whose lanes turn over, and passes a freed lane straight to it', async () => {
    const time = clock();
    const lanes = new EndpointLanes(1, time.now);
    expect(lanes.tryAcquire('a')).toBe(true);
    const waiting = lanes.acquire('a');
    let granted = false;
    void waiting.then(() => (granted = true));
    await Promise.resolve();
    expect(granted).toBe(false);
    lanes.answered('a');
    lanes.release('a');
    expect(await waiting).toBe(true);
    // The lane went to the waiting delivery: none is free.
    expect(lanes.tryAcquire('a')).toBe(false);
  });

  it('parks at once (no wait in memory) for an endpoint that has not turned over lately, or whose receiver does not answer', async () => {
    const time = clock();
    const lanes = new EndpointLanes(1, time.now);
    expect(lanes.tryAcquire('slow')).toBe(true);
    time.advance(1_001);
    expect(await lanes.acquire('slow')).toBe(false);

    expect(lanes.tryAcquire('dead')).toBe(true);
    lanes.unanswered('dead');
    lanes.release('dead');
    // Idle again, but its last attempt got no answer: taking a lane does not count as turning over.
    expect(lanes.tryAcquire('dead')).toBe(true);
    time.advance(1_001);
    expect(await lanes.acquire('dead')).toBe(false);
  });

  it('releases a lane once however often its releaser is called', () => {
    const lanes = new EndpointLanes(1, clock().now);
    expect(lanes.tryAcquire('a')).toBe(true);
    const release = lanes.releaserOf('a');
    expect(lanes.tryAcquire('b')).toBe(true);
    release();
    release();
    expect([lanes.tryAcquire('a'), lanes.tryAcquire('a')]).toEqual([true, false]);
  });
});
