import { deleteOlderThan } from '@app/persistence';
import type { DeliveryChange } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** TypeORM answers an UPDATE … RETURNING with [rows, count], a SELECT with the rows alone. */
function returnedRows<T>(result: T[] | [T[], number]): T[] {
  return (Array.isArray(result[0]) ? result[0] : result) as T[];
}

/** A delivery waiting in PostgreSQL for its next attempt. */
export interface ParkedDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  body: Buffer;
  attempt: number;
  /** When ingest accepted its event (epoch milliseconds); null when unknown. */
  acceptedAt: number | null;
  /** Parked before its first attempt: its place among its endpoint's first attempts (FirstAttemptOrder); null otherwise. */
  firstSeq: number | null;
}

/** A change with the attempts-stream sequence it was stored at. */
export interface SequencedChange {
  seq: number;
  change: DeliveryChange;
}

type ParkedRow = { id: string; endpoint_id: string; event_id: string; body: Buffer; attempt: number; accepted_at: Date | null; first_seq: string | null };
const toParked = (row: ParkedRow): ParkedDelivery => ({
  id: row.id,
  endpointId: row.endpoint_id,
  eventId: row.event_id,
  body: row.body,
  attempt: row.attempt,
  acceptedAt: row.accepted_at?.getTime() ?? null,
  firstSeq: row.first_seq === null ? null : Number(row.first_seq),
});
const PARKED_COLUMNS = 'id, endpoint_id, event_id, body, attempt, accepted_at, first_seq';
/** A waiting first attempt with its place in its endpoint's order (delivery_retry_first_attempts_idx). */
const IN_ORDER = 'first_seq IS NOT NULL AND attempt = 1 AND failed_at IS NULL';

/** Whether the endpoint has first attempts waiting in their order (held or claimed ones included). */
async function firstAttemptsWaiting(manager: EntityManager, endpointId: string): Promise<boolean> {
  const [row]: Array<{ waiting: boolean }> = await manager.query(`SELECT EXISTS (SELECT 1 FROM delivery_retry WHERE endpoint_id = $1 AND ${IN_ORDER}) AS waiting`, [endpointId]);
  return row?.waiting === true;
}

/**
 * The ledger: deliveries waiting in PostgreSQL for their next attempt
 * (`delivery_retry`), and the delivery log; this class is the one code that
 * writes them. What a delivery comes to (each transition) arrives through
 * the attempts stream alone (applyChanges, in stream order). Two writes are
 * not a delivery's transition and do not go through it: a claim, which
 * takes due deliveries for one replica (SKIP LOCKED, so replicas share
 * them) until its outcome arrives or the claim expires; and RetryHolds'
 * hold, release or failure of all of an endpoint's waiting deliveries at
 * once when the endpoint's state changes (one UPDATE, not a record per
 * delivery).
 *
 * A waiting delivery of an endpoint that is not active is `held`: it is out
 * of the claims' index (`delivery_retry_ready_idx`), so a claim never reads
 * it, whatever the backlog of paused endpoints; probes still find it.
 * RetryHolds decides, from the config view, which endpoints are held.
 */
@Injectable()
export class DeliveryStore {
  constructor(private readonly dataSource: DataSource) {}

  /** Connected (at start the dispatcher connects in the background, and does not wait for PostgreSQL). */
  get connected(): boolean {
    return this.dataSource.isInitialized;
  }

  /**
   * Claims up to `limit` due deliveries for `lockMs`; another replica will
   * not take them meanwhile. Held deliveries (of inactive endpoints) are
   * never read. `skipEndpoints`: endpoints not to claim for now (every lane
   * taken): their deliveries stay where they are. A claim that expired
   * is taken again only if it expired before `horizon` (the time of the
   * oldest change not yet projected), so a delivery whose attempt is still on
   * its way from the attempts stream is never attempted twice; `skipIds` are
   * this replica's own attempts in progress. First attempts waiting in their
   * endpoint's order are not claimed here: the endpoint's partition holder
   * claims them (claimFirstAttempts).
   */
  async claimDue(limit: number, lockMs: number, skipEndpoints: string[], horizon: Date, skipIds: string[]): Promise<ParkedDelivery[]> {
    const rows: ParkedRow[] = await this.dataSource.query(
      `UPDATE delivery_retry SET locked_until = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id IN (
         SELECT retry.id FROM delivery_retry retry
         WHERE retry.failed_at IS NULL AND NOT retry.held AND retry.next_attempt_at <= now()
           AND (retry.locked_until IS NULL OR retry.locked_until < LEAST(now(), $4::timestamptz))
           AND retry.endpoint_id <> ALL($3::uuid[]) AND retry.id <> ALL($5::bigint[])
           AND (retry.first_seq IS NULL OR retry.attempt <> 1)
         ORDER BY retry.next_attempt_at
         LIMIT $1
         FOR UPDATE OF retry SKIP LOCKED)
       RETURNING ${PARKED_COLUMNS}`,
      [limit, lockMs, skipEndpoints, horizon, skipIds],
    );
    return returnedRows(rows).map(toParked);
  }

  /**
   * Claims the endpoint's next waiting delivery whatever its state, held or
   * not (a probe of a paused endpoint): its first waiting first attempt in
   * their order, else its next retry; none if someone has that one.
   */
  async claimOneOf(endpointId: string, lockMs: number, horizon: Date, skipIds: string[]): Promise<ParkedDelivery | null> {
    // Under the lock of the endpoint's first attempts: no claim of them takes the same one meanwhile.
    const rows: ParkedRow[] = await this.underFirstAttemptsLock(endpointId, (manager) =>
      manager.query(
        `UPDATE delivery_retry SET locked_until = now() + make_interval(secs => $2::double precision / 1000)
         WHERE id = COALESCE(
             (SELECT id FROM delivery_retry WHERE endpoint_id = $1 AND ${IN_ORDER} ORDER BY first_seq LIMIT 1),
             (SELECT id FROM delivery_retry WHERE endpoint_id = $1 AND failed_at IS NULL ORDER BY next_attempt_at LIMIT 1))
           AND (locked_until IS NULL OR locked_until < LEAST(now(), $3::timestamptz)) AND id <> ALL($4::bigint[])
         RETURNING ${PARKED_COLUMNS}`,
        [endpointId, lockMs, horizon, skipIds],
      ),
    );
    const row = returnedRows(rows)[0];
    return row ? toParked(row) : null;
  }

  /**
   * Claims up to `limit` of the endpoint's first attempts waiting in their
   * order, from the first: the longest run of them that may go now (due,
   * not held, not claimed, not among `skipIds`). None when the first cannot
   * go: no later one overtakes it. `passedIds`: this replica's that already
   * took their lane (their outcome on its way): neither claimed nor in the
   * way. Only the holder of the endpoint's partition claims them (and a
   * probe, under the same lock). `waiting`: whether any waits at all
   * (`passedIds` included); `lockedUntil` is the claim's, for unclaim.
   */
  async claimFirstAttempts(
    endpointId: string,
    limit: number,
    lockMs: number,
    horizon: Date,
    skipIds: string[],
    passedIds: string[],
  ): Promise<{ claimed: ParkedDelivery[]; lockedUntil: Date | null; waiting: boolean }> {
    // One claim of an endpoint's first attempts at a time (two holders overlap for a moment at a handover):
    // the second reads the queue as the first left it.
    return this.underFirstAttemptsLock(endpointId, async (manager) => {
      const rows: Array<ParkedRow & { locked_until: Date }> = returnedRows(
        await manager.query(
          `WITH queue AS (
             SELECT id, first_seq,
               (NOT held AND next_attempt_at <= now() AND (locked_until IS NULL OR locked_until < LEAST(now(), $4::timestamptz)) AND id <> ALL($5::bigint[])) AS ready
             FROM delivery_retry WHERE endpoint_id = $1 AND ${IN_ORDER} AND id <> ALL($6::bigint[])
             ORDER BY first_seq LIMIT $2)
           UPDATE delivery_retry SET locked_until = now() + make_interval(secs => $3::double precision / 1000)
           WHERE id IN (SELECT id FROM queue WHERE ready AND NOT EXISTS (SELECT 1 FROM queue earlier WHERE NOT earlier.ready AND earlier.first_seq < queue.first_seq))
             AND (locked_until IS NULL OR locked_until < LEAST(now(), $4::timestamptz))
           RETURNING ${PARKED_COLUMNS}, locked_until`,
          [endpointId, limit, lockMs, horizon, skipIds, passedIds],
        ),
      );
      if (rows.length > 0) {
        const claimed = rows.map(toParked).sort((a, b) => a.firstSeq! - b.firstSeq!);
        return { claimed, lockedUntil: rows[0]!.locked_until, waiting: true };
      }
      return { claimed: [], lockedUntil: null, waiting: await firstAttemptsWaiting(manager, endpointId) };
    });
  }

  /** Gives back deliveries this claim (`lockedUntil`) took, unattempted: a first attempt ahead of them could not go. */
  async unclaim(ids: string[], lockedUntil: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource.query('UPDATE delivery_retry SET locked_until = NULL WHERE id = ANY($1::bigint[]) AND locked_until = $2', [ids, lockedUntil]);
  }

  private underFirstAttemptsLock<T>(endpointId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query("SELECT pg_advisory_xact_lock(hashtext('first-attempts:' || $1))", [endpointId]);
      return work(manager);
    });
  }

  /** Whether the endpoint has first attempts waiting in their order (held or claimed ones included). */
  hasFirstAttempts(endpointId: string): Promise<boolean> {
    return firstAttemptsWaiting(this.dataSource.manager, endpointId);
  }

  /** The endpoints that have first attempts waiting in their order: a skip scan of delivery_retry_first_attempts_idx. */
  endpointsWithFirstAttempts(): Promise<string[]> {
    return this.endpointsWhere(IN_ORDER);
  }

  /**
   * The endpoints with rows where `condition` holds (unqualified columns of
   * delivery_retry): a skip scan of the index with that predicate, one probe
   * per endpoint, not per row.
   */
  private async endpointsWhere(condition: string): Promise<string[]> {
    const rows: Array<{ endpoint_id: string }> = await this.dataSource.query(
      `WITH RECURSIVE found (endpoint_id) AS (
         (SELECT endpoint_id FROM delivery_retry WHERE ${condition} ORDER BY endpoint_id LIMIT 1)
         UNION ALL
         SELECT (SELECT next.endpoint_id FROM delivery_retry next WHERE ${condition} AND next.endpoint_id > previous.endpoint_id ORDER BY next.endpoint_id LIMIT 1)
         FROM found previous WHERE previous.endpoint_id IS NOT NULL)
       SELECT endpoint_id FROM found WHERE endpoint_id IS NOT NULL`,
    );
    return rows.map((row) => row.endpoint_id);
  }

  /**
   * Holds (or releases) every waiting delivery of the endpoint: one UPDATE
   * through an index of that endpoint's rows. Idempotent; rows already as
   * asked are not written. Returns how many rows changed.
   */
  async holdEndpoint(endpointId: string, held: boolean): Promise<number> {
    const [, changed]: [unknown, number] = await this.dataSource.query(
      held
        ? 'UPDATE delivery_retry SET held = true WHERE endpoint_id = $1 AND failed_at IS NULL AND NOT held'
        : 'UPDATE delivery_retry SET held = false WHERE endpoint_id = $1 AND held',
      [endpointId],
    );
    return changed;
  }

  /**
   * Keeps every waiting delivery of an endpoint disabled by 410 Gone as
   * failed (for resendDelivery), as its fresh deliveries are; returns how many.
   */
  async failWaiting(endpointId: string): Promise<number> {
    const [, changed]: [unknown, number] = await this.dataSource.query(
      'UPDATE delivery_retry SET failed_at = now(), held = false, locked_until = NULL WHERE endpoint_id = $1 AND failed_at IS NULL',
      [endpointId],
    );
    return changed;
  }

  /** The endpoints that have held deliveries: a skip scan of delivery_retry_held_idx, one probe per endpoint, not per row. */
  endpointsWithHeldDeliveries(): Promise<string[]> {
    return this.endpointsWhere('held');
  }

  /**
   * Deletes delivery log lines, and deliveries that failed for good (kept
   * for resendDelivery), older than `retentionMs`; by indexed batches.
   */
  async prune(retentionMs: number): Promise<{ lines: number; failed: number }> {
    const lines = await deleteOlderThan(this.dataSource, 'delivery_attempt', 'attempted_at', retentionMs);
    const failed = await deleteOlderThan(this.dataSource, 'delivery_retry', 'failed_at', retentionMs, 'failed_at IS NOT NULL');
    return { lines, failed };
  }

  /**
   * Applies changes from the attempts stream in one transaction, in stream
   * order. Idempotent: a log line is keyed by its change's id, and each
   * ledger change sets the delivery's row whole (a fresh delivery's, which
   * carries the body), or its schedule or failure (a claimed one's, whose
   * row holds the body), or removes it.
   * A delivery parked is held when `holds` says so of its endpoint (asked
   * once per endpoint); returns what it said of each endpoint with a parked
   * delivery, so the caller can check it still holds once committed.
   */
  async applyChanges(changes: SequencedChange[], holds: (endpointId: string) => boolean = () => false): Promise<Map<string, boolean>> {
    const parked = new Map<string, boolean>();
    if (changes.length === 0) return parked;
    const heldOf = (endpointId: string): boolean => {
      const held = parked.get(endpointId) ?? holds(endpointId);
      parked.set(endpointId, held);
      return held;
    };
    await this.dataSource.transaction(async (manager) => {
      await this.insertLogLines(manager, changes);
      // The last change of each delivery is what it comes to.
      const last = new Map<string, DeliveryChange>();
      for (const { change } of changes) {
        if (change.retry.kind === 'none') continue;
        const key = `${change.endpointId}:${change.eventId}`;
        // A claimed delivery's change carries no body (its row has it); one the same batch parks first does.
        const earlierBody = last.get(key)?.body;
        last.set(key, change.body === undefined && earlierBody !== undefined ? { ...change, body: earlierBody } : change);
      }
      for (const change of last.values()) await this.applyRetryChange(manager, change, heldOf);
    });
    return parked;
  }

  private async insertLogLines(manager: EntityManager, changes: SequencedChange[]): Promise<void> {
    const lines = changes.filter(({ change }) => change.log !== null);
    if (lines.length === 0) return;
    const column = <T>(pick: (entry: SequencedChange) => T) => lines.map(pick);
    await manager.query(
      `INSERT INTO delivery_attempt (record_id, endpoint_id, event_id, attempt, attempted_at, status_code, duration_ms, error, response_body, outcome)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::timestamptz[], $6::int[], $7::int[], $8::text[], $9::text[], $10::text[])
       ON CONFLICT (record_id) DO NOTHING`,
      [
        column((entry) => entry.change.id),
        column((entry) => entry.change.endpointId),
        column((entry) => entry.change.eventId),
        column((entry) => entry.change.log!.attempt),
        column((entry) => entry.change.log!.attemptedAt),
        column((entry) => entry.change.log!.statusCode),
        column((entry) => entry.change.log!.durationMs),
        column((entry) => entry.change.log!.error),
        column((entry) => entry.change.log!.responseBody),
        column((entry) => entry.change.log!.outcome),
      ],
    );
  }

  private async applyRetryChange(manager: EntityManager, change: DeliveryChange, heldOf: (endpointId: string) => boolean): Promise<void> {
    const { endpointId, eventId, retry } = change;
    const body = change.body === undefined ? null : Buffer.from(change.body, 'base64');
    switch (retry.kind) {
      case 'remove':
        await manager.query('DELETE FROM delivery_retry WHERE endpoint_id = $1 AND event_id = $2', [endpointId, eventId]);
        return;
      case 'park':
        if (body === null) {
          // A claimed delivery, whose row holds its body: gone with its endpoint if that was deleted meanwhile.
          await manager.query(
            `UPDATE delivery_retry SET attempt = $3, next_attempt_at = $4, locked_until = NULL, failed_at = NULL, held = $5, accepted_at = COALESCE($6, accepted_at)
             WHERE endpoint_id = $1 AND event_id = $2`,
            [endpointId, eventId, retry.attempt, retry.at, heldOf(endpointId), change.acceptedAt ?? null],
          );
          return;
        }
        // An endpoint deleted meanwhile takes its deliveries with it.
        await manager.query(
          `INSERT INTO delivery_retry (endpoint_id, event_id, body, attempt, next_attempt_at, held, accepted_at, first_seq)
           SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 FROM endpoint WHERE id = $1)
           ON CONFLICT (endpoint_id, event_id) DO UPDATE
             SET attempt = EXCLUDED.attempt, next_attempt_at = EXCLUDED.next_attempt_at, locked_until = NULL, failed_at = NULL, body = EXCLUDED.body, held = EXCLUDED.held,
               accepted_at = EXCLUDED.accepted_at, first_seq = EXCLUDED.first_seq`,
          [endpointId, eventId, body, retry.attempt, retry.at, heldOf(endpointId), change.acceptedAt ?? null, change.firstSeq ?? null],
        );
        return;
      case 'fail':
        // Only waiting deliveries are held.
        if (body === null) {
          await manager.query('UPDATE delivery_retry SET failed_at = now(), locked_until = NULL, held = false WHERE endpoint_id = $1 AND event_id = $2', [endpointId, eventId]);
          return;
        }
        await manager.query(
          `INSERT INTO delivery_retry (endpoint_id, event_id, body, attempt, next_attempt_at, failed_at)
           SELECT $1, $2, $3, 0, now(), now() WHERE EXISTS (SELECT 1 FROM endpoint WHERE id = $1)
           ON CONFLICT (endpoint_id, event_id) DO UPDATE SET failed_at = now(), locked_until = NULL, held = false`,
          [endpointId, eventId, body],
        );
        return;
      case 'none':
        return;
    }
  }
}
