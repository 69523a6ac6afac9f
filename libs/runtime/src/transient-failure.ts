/**
 * Whether an error means a dependency (PostgreSQL, NATS) could not be
 * reached or did not answer, rather than that the work itself is wrong. Such
 * work waits and is tried again for as long as the outage lasts; it is never
 * dead-lettered for it.
 */
export function isTransientFailure(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const candidate = current as { code?: unknown; name?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof candidate.code === 'string' && isTransientCode(candidate.code)) return true;
    if (candidate.name === 'DependencyUnavailableError' || (candidate as { transient?: unknown }).transient === true) return true;
    if (typeof candidate.message === 'string' && TRANSIENT_MESSAGES.test(candidate.message)) return true;
    // TypeORM wraps the driver's error; NATS and our own errors chain theirs as `cause`.
    current = candidate.driverError ?? candidate.cause;
  }
  return false;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

function isTransientCode(code: string): boolean {
  if (NETWORK_CODES.has(code)) return true;
  // PostgreSQL SQLSTATE: 08 connection exceptions, 53 insufficient resources, 57P0x shutdown/cannot connect now,
  // 40001/40P01 serialization failure and deadlock (both safe to retry), 55P03 a lock not obtained within
  // lock_timeout (a migration's, while the table is busy).
  return /^(08...|53...|57P0[1-4]|40001|40P01|55P03)$/.test(code);
}

const TRANSIENT_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|terminating connection|the database system is (starting up|shutting down)|JetStream did not store|no responders|TIMEOUT|CONNECTION_CLOSED|DISCONNECT|connection closed|connection draining|Driver not Connected/i;

/** Thrown by our own code when a dependency is away; always transient. */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
  readonly transient = true;
}

/** Capped exponential backoff with ±20% jitter, for waits that have no give-up time. */
export function backoffMs(failures: number, baseMs = 500, capMs = 30_000): number {
  const delay = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 20)));
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}
