/** A check every `waitFor` makes before each poll: an error it returns ends the wait at once. */
export type WaitGuard = () => Error | null;

// Per jest test file (jest gives each file its own module registry), per process for benchmarks.
const guards = new Set<WaitGuard>();

/**
 * Makes every `waitFor` fail at once, with the guard's error, while the guard
 * reports one: an app a test started has died, so whatever the test waits for
 * will never come. Returns the guard's removal.
 */
export function guardWaits(guard: WaitGuard): () => void {
  guards.add(guard);
  return () => guards.delete(guard);
}

/** Throws the error of the first guard that reports one (for loops that do not wait through waitFor). */
export function checkWaitGuards(): void {
  for (const guard of guards) {
    const error = guard();
    if (error) throw error;
  }
}

/** A waitFor whose deadline passed (rather than one a guard ended). */
export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
}

/**
 * Polls `condition` until it returns a truthy value or the deadline passes. Never a blind sleep.
 * An error of `condition` is remembered and polling goes on; an error of a guard ends the wait.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { timeoutMs = 15_000, intervalMs = 25, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    checkWaitGuards();
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  checkWaitGuards();
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}
