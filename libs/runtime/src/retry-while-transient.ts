import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { backoffMs, isTransientFailure } from './transient-failure.js';

const logger = new Logger('Retry');

export interface RetryOptions {
  /** Runs after each transient failure, before the wait (closing a half-made connection, say). */
  afterFailure?: () => Promise<void>;
  /** When it turns true the loop ends, rejecting with the last failure (the app is stopping). */
  stopped?: () => boolean;
}

/**
 * Runs a step until it succeeds, waiting with capped backoff while it fails
 * for a transient reason (a busy or restarting server, a database not up yet):
 * slow is not fatal. Any other failure is rethrown, and start-up fails with
 * its reason.
 */
export async function retryWhileTransient<T>(what: string, step: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  for (let failures = 1; ; failures += 1) {
    try {
      return await step();
    } catch (error) {
      if (!isTransientFailure(error) || options.stopped?.()) throw error;
      await options.afterFailure?.();
      const delay = backoffMs(failures, 500, 10_000);
      logger.warn(`${what} failed (${(error as Error).message}); retrying in ${delay} ms`);
      await sleep(delay);
    }
  }
}
