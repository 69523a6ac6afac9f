import { Logger } from '@nestjs/common';
import { backoffMs, isTransientFailure } from '@app/runtime';

const logger = new Logger('Startup');

/**
 * Runs a start-up step until it succeeds, waiting with capped backoff while it
 * fails for a transient reason (a busy or restarting server): slow is not
 * fatal. Any other failure is rethrown, and start-up fails with its reason.
 */
export async function retryWhileTransient<T>(what: string, step: () => Promise<T>): Promise<T> {
  for (let failures = 1; ; failures += 1) {
    try {
      return await step();
    } catch (error) {
      if (!isTransientFailure(error)) throw error;
      const delay = backoffMs(failures, 500, 10_000);
      logger.warn(`${what} failed (${(error as Error).message}); retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
