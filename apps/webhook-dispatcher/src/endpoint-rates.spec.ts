import { describe, expect, it } from '@jest/globals';
import { EndpointRates, maxRateOf } from './endpoint-rates.js';

describe('endpoint rates (maxRatePerSecond)', () => {
  it('lets a second’s worth go at once, then one per 1/rate seconds, and says how long until the next', () => {
    let now = 1_000_000;
    const rates = new EndpointRates(() => now);
    expect([rates.take('a', 4), rates.take('a', 4), rates.take('a', 4), rates.take('a', 4)]).toEqual([0, 0, 0, 0]);
    expect(rates.take('a', 4)).toBe(250);
    expect(rates.exhausted()).toEqual(['a']);
    expect(rates.available('a')).toBe(0);
    now += 250;
    expect(rates.exhausted()).toEqual([]);
    expect(rates.available('a')).toBe(1);
    expect(rates.take('a', 4)).toBe(0);
    // A backlog claimed from the ledger takes no more than may go: a second's worth at most, none for an endpoint without a rate.
    now += 60_000;
    expect(rates.available('a')).toBe(4);
    expect(rates.available('free')).toBe(Infinity);
    now -= 60_000;
    // Never more than a second's worth saved up.
    now += 60_000;
    expect(Array.from({ length: 5 }, () => rates.take('a', 4))).toEqual([0, 0, 0, 0, 250]);
  });

  it('spreads the deliveries it turns away at the rate, each to a time of its own, and lets each go at its time', () => {
    let now = 1_000_000;
    const rates = new EndpointRates(() => now);
    expect(Array.from({ length: 4 }, () => rates.take('a', 4))).toEqual([0, 0, 0, 0]);
    // A backlog claimed at once: not all back at the next token, but one every 250 ms.
    const waits = Array.from({ length: 6 }, () => rates.take('a', 4));
    expect(waits).toEqual([250, 500, 750, 1_000, 1_250, 1_500]);
    for (const wait of waits) {
      now = 1_000_000 + wait;
      expect([wait, rates.take('a', 4)]).toEqual([wait, 0]);
    }
  });

  it('does not limit an endpoint without a rate, and forgets its bucket when the rate is removed', () => {
    const now = 1_000_000;
    const rates = new EndpointRates(() => now);
    expect(Array.from({ length: 100 }, () => rates.take('free', undefined)).every((wait) => wait === 0)).toBe(true);
    rates.take('a', 1);
    expect(rates.exhausted()).toEqual(['a']);
    expect(rates.take('a', undefined)).toBe(0);
    expect(rates.exhausted()).toEqual([]);
  });

  it('reads the rate from a webhook’s meta, ignoring one that is not positive', () => {
    const url = 'https://receiver.example/hook';
    expect(maxRateOf({ url, maxRatePerSecond: 5 })).toBe(5);
    for (const meta of [{ url }, { url, maxRatePerSecond: 0 }, { url, maxRatePerSecond: -1 }]) expect(maxRateOf(meta)).toBeUndefined();
  });
});
