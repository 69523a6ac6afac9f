/** What withDeadline rejects with once its time has passed. */
export class DeadlineExceededError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/**
 * Resolves as `task` does, or rejects with a DeadlineExceededError once `ms`
 * have passed (the task goes on; `onLate` may end it). For a wait on
 * something that may never answer.
 */
export function withDeadline<T>(task: Promise<T>, ms: number, onLate?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate?.();
      reject(new DeadlineExceededError(ms));
    }, ms);
  });
  return Promise.race([task, late]).finally(() => clearTimeout(timer));
}
