import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { deadLettersCounter, deliveryLatencyHistogram, secondsSince, STATUS_CLASSES, statusClassOf } from './metrics.js';

describe('metrics', () => {
  it('labels a status by its class, and no answer as none', () => {
    expect([200, 204, 301, 404, 410, 429, 500, 503].map(statusClassOf)).toEqual(['2xx', '2xx', '3xx', '4xx', '4xx', '4xx', '5xx', '5xx']);
    expect(statusClassOf(null)).toBe('none');
    expect(statusClassOf(42)).toBe('none');
    // STATUS_CLASSES (the series created at 0 up front) holds every class statusClassOf gives.
    const given = new Set([null, 42, ...Array.from({ length: 500 }, (_, index) => 100 + index)].map(statusClassOf));
    expect([...given].sort()).toEqual([...STATUS_CLASSES].sort());
  });

  it('measures seconds since a start, never negative, and nothing when the start is unknown', () => {
    expect(secondsSince(1_000, 3_500)).toBe(2.5);
    expect(secondsSince(5_000, 3_500)).toBe(0);
    expect(secondsSince(null, 3_500)).toBeNull();
  });

  it('registers a shared metric once per registry, however many providers ask for it', () => {
    const registry = new Registry();
    expect(deliveryLatencyHistogram(registry)).toBe(deliveryLatencyHistogram(registry));
    expect(deadLettersCounter(registry)).toBe(deadLettersCounter(registry));
    expect(registry.getMetricsAsArray()).toHaveLength(2);
  });
});
