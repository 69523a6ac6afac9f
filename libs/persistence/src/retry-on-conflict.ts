import { setTimeout as sleep } from 'node:timers/promises';
import { backoffMs, isConflict } from '@app/runtime';

const ATTEMPTS = 5;

/**
 * Runs `work` (one transaction, or one statement) again when PostgreSQL rolls
 * it back for a concurrent one (isConflict): two api replicas' changes may
 * lock the same rows in opposite orders (an endpoint's deletion detaching its
 * filters while one of them is deleted), and PostgreSQL then rolls one back.
 * Nothing of that attempt was kept, so a caller gets its answer rather than an
 * error. Up to five attempts, a few milliseconds apart (jittered, so the two
 * do not meet again); any other error, or the fifth conflict, is the caller's.
 */
export async function retryOnConflict<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= ATTEMPTS || !isConflict(error)) throw error;
      await sleep(backoffMs(attempt, 10, 200));
    }
  }
}
