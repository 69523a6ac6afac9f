import { describe, expect, it } from '@jest/globals';
import { RetryPolicy } from './retry-policy.js';
import type { AttemptResult } from './webhook-client.js';

const NOW = 1_000_000;
const answered = (status: number, retryAfterMs: number | null = null): AttemptResult => ({ kind: 'answered', status, durationMs: 5, body: '', retryAfterMs });
const noAnswer: AttemptResult = { kind: 'no-answer', error: 'ECONNREFUSED', durationMs: 1 };
/** Schedule 5 s, 30 s, 2 min; the jitter's randomness at its middle (no jitter), or at either end. */
const policy = (random = 0.5) => new RetryPolicy([5_000, 30_000, 120_000], () => random);

describe('the retry policy', () => {
  it('takes any 2xx as delivered', () => {
    for (const status of [200, 201, 204, 299]) expect(policy().judge(1, answered(status), NOW)).toEqual({ kind: 'delivered' });
  });

  it('retries anything else on the schedule, the next attempt after its delay', () => {
    for (const result of [answered(500), answered(404), answered(301), noAnswer]) {
      expect(policy().judge(1, result, NOW)).toEqual({ kind: 'retry', attempt: 2, at: NOW + 5_000 });
      expect(policy().judge(3, result, NOW)).toEqual({ kind: 'retry', attempt: 4, at: NOW + 120_000 });
    }
  });

  it('strays at most a tenth of the delay either way', () => {
    expect(policy(0).judge(2, answered(500), NOW)).toEqual({ kind: 'retry', attempt: 3, at: NOW + 27_000 });
    expect(policy(1).judge(2, answered(500), NOW)).toEqual({ kind: 'retry', attempt: 3, at: NOW + 33_000 });
  });

  it('gives up once the schedule is spent, and at once on 410 Gone', () => {
    expect(policy().judge(4, answered(500), NOW)).toEqual({ kind: 'failed', gone: false });
    expect(policy().judge(4, noAnswer, NOW)).toEqual({ kind: 'failed', gone: false });
    expect(policy().judge(1, answered(410), NOW)).toEqual({ kind: 'failed', gone: true });
  });

  it('lets Retry-After on 429 and 503 move a retry later, never earlier, and never past the longest delay', () => {
    expect(policy().judge(1, answered(429, 60_000), NOW)).toEqual({ kind: 'retry', attempt: 2, at: NOW + 60_000 });
    expect(policy().judge(1, answered(503, 1_000), NOW)).toEqual({ kind: 'retry', attempt: 2, at: NOW + 5_000 });
    expect(policy().judge(1, answered(503, 3_600_000), NOW)).toEqual({ kind: 'retry', attempt: 2, at: NOW + 120_000 });
    // Other statuses' Retry-After is not a request to wait.
    expect(policy().judge(1, answered(500, 60_000), NOW)).toEqual({ kind: 'retry', attempt: 2, at: NOW + 5_000 });
  });
});
