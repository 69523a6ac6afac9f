import type { AttemptResult } from './webhook-client.js';
import type { AttemptVerdict } from './delivery-transitions.js';

/** How far each scheduled delay may stray, either way, so that retries of one outage do not all come back at once. */
const JITTER = 0.1;

/**
 * What an attempt's answer means for the delivery: 2xx delivered; 410 Gone
 * failed for good; anything else (another status, a timeout, a refused or
 * reset connection, a DNS failure) retried on WEBHOOK_RETRY_SCHEDULE until it
 * is spent. `Retry-After` on 429 and 503 moves a retry later than the
 * schedule, never earlier, and never past the schedule's longest delay.
 * Pure: the time and the jitter's randomness are given.
 */
export class RetryPolicy {
  private readonly longestDelay: number;

  constructor(
    private readonly schedule: readonly number[],
    private readonly random: () => number = Math.random,
  ) {
    this.longestDelay = Math.max(...schedule);
  }

  judge(attempt: number, result: AttemptResult, now: number): AttemptVerdict {
    const status = result.kind === 'answered' ? result.status : null;
    if (status !== null && status >= 200 && status < 300) return { kind: 'delivered' };
    if (status === 410) return { kind: 'failed', gone: true };
    if (attempt > this.schedule.length) return { kind: 'failed', gone: false };
    const scheduled = this.schedule[attempt - 1]! * (1 - JITTER + this.random() * 2 * JITTER);
    const asked = result.kind === 'answered' && (status === 429 || status === 503) ? result.retryAfterMs : null;
    const delay = asked === null ? scheduled : Math.min(Math.max(asked, scheduled), this.longestDelay);
    return { kind: 'retry', attempt: attempt + 1, at: now + delay };
  }
}
