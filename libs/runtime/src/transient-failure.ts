/**
 * Whether an error means a dependency (PostgreSQL, NATS) could not be
 * reached or did not answer, rather than that the work itself is wrong. Such
 * work waits and is tried again for as long as the outage lasts; it is never
 * dead-lettered for it.
 */
export function isTransientFailure(error: unknown): boolean {
  for (const candidate of causes(error)) {
    if (typeof candidate.code === 'string' && isTransientCode(candidate.code)) return true;
    if (candidate.name === 'DependencyUnavailableError' || candidate.transient === true) return true;
    if (typeof candidate.message === 'string' && TRANSIENT_MESSAGES.test(candidate.message)) return true;
  }
  return false;
}

/**
 * Whether an error is a transaction PostgreSQL rolled back whole for a
 * concurrent one (a deadlock, a serialization failure): run again, it
 * succeeds. Transient too, but worth running again at once rather than
 * waiting out as an outage.
 */
export function isConflict(error: unknown): boolean {
  for (const candidate of causes(error)) if (typeof candidate.code === 'string' && CONFLICT_CODES.has(candidate.code)) return true;
  return false;
}

/** The error and what it wraps: TypeORM wraps the driver's error; NATS and our own errors chain theirs as `cause`. */
function* causes(error: unknown): Generator<{ code?: unknown; name?: unknown; message?: unknown; transient?: unknown }> {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    yield current as { code?: unknown };
    const candidate = current as { driverError?: unknown; cause?: unknown };
    current = candidate.driverError ?? candidate.cause;
  }
}

/** PostgreSQL SQLSTATE: serialization failure, deadlock (both safe to run again). */
const CONFLICT_CODES = new Set(['40001', '40P01']);

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

function isTransientCode(code: string): boolean {
  if (NETWORK_CODES.has(code) || CONFLICT_CODES.has(code)) return true;
  // PostgreSQL SQLSTATE: 08 connection exceptions, 53 insufficient resources, 57P0x shutdown/cannot connect now,
  // 55P03 a lock not obtained within lock_timeout (a migration's, while the table is busy).
  return /^(08...|53...|57P0[1-4]|55P03)$/.test(code);
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
