import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

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
}

export interface AttemptRecord {
  endpointId: string;
  eventId: string;
  attempt: number;
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseBody: string | null;
  outcome: 'SUCCEEDED' | 'RETRYING' | 'FAILED';
}

export interface EndpointSecrets {
  current: string;
  previous: string | null;
  previousExpiresAt: Date | null;
  /** Sent with every delivery (the receiver's own auth, for example). */
  customHeaders: Record<string, string>;
}

/**
 * The dispatcher's PostgreSQL: deliveries waiting for a retry (claimed with
 * SKIP LOCKED, so replicas share them), the delivery log, secrets and states.
 */
@Injectable()
export class DeliveryStore {
  constructor(private readonly dataSource: DataSource) {}

  /** An endpoint's signing secrets and custom headers: never in the config bucket, only here. */
  async secretsOf(endpointId: string): Promise<EndpointSecrets | null> {
    const rows: Array<{
      signing_secret: string | null;
      previous_signing_secret: string | null;
      previous_secret_expires_at: Date | null;
      custom_headers: Record<string, string>;
    }> = await this.dataSource.query(
      'SELECT signing_secret, previous_signing_secret, previous_secret_expires_at, custom_headers FROM endpoint WHERE id = $1',
      [endpointId],
    );
    const row = rows[0];
    if (!row?.signing_secret) return null;
    return {
      current: row.signing_secret,
      previous: row.previous_signing_secret,
      previousExpiresAt: row.previous_secret_expires_at,
      customHeaders: row.custom_headers,
    };
  }

  /** Stores (or moves) a delivery's next attempt. One row per endpoint and event. */
  async park(endpointId: string, eventId: string, body: Uint8Array, attempt: number, at: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO delivery_retry (endpoint_id, event_id, body, attempt, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (endpoint_id, event_id) DO UPDATE
         SET attempt = EXCLUDED.attempt, next_attempt_at = EXCLUDED.next_attempt_at, locked_until = NULL, failed_at = NULL, body = EXCLUDED.body`,
      [endpointId, eventId, Buffer.from(body), attempt, at],
    );
  }

  /**
   * Claims up to `limit` due deliveries of active endpoints for `lockMs`;
   * another replica will not take them meanwhile. A paused endpoint's
   * deliveries stay where they are until it is resumed.
   */
  async claimDue(limit: number, lockMs: number, skipEndpoints: string[]): Promise<ParkedDelivery[]> {
    const rows: Array<{ id: string; endpoint_id: string; event_id: string; body: Buffer; attempt: number }> = await this.dataSource.query(
      `UPDATE delivery_retry SET locked_until = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id IN (
         SELECT retry.id FROM delivery_retry retry JOIN endpoint ON endpoint.id = retry.endpoint_id
         WHERE endpoint.state = 'ACTIVE' AND retry.failed_at IS NULL AND retry.next_attempt_at <= now()
           AND (retry.locked_until IS NULL OR retry.locked_until < now())
           AND retry.endpoint_id <> ALL($3::uuid[])
         ORDER BY retry.next_attempt_at
         LIMIT $1
         FOR UPDATE OF retry SKIP LOCKED)
       RETURNING id, endpoint_id, event_id, body, attempt`,
      [limit, lockMs, skipEndpoints],
    );
    return returnedRows(rows).map((row) => ({ id: row.id, endpointId: row.endpoint_id, eventId: row.event_id, body: row.body, attempt: row.attempt }));
  }

  /** Claims the endpoint's next waiting delivery whatever its state (a probe of a paused endpoint). */
  async claimOneOf(endpointId: string, lockMs: number): Promise<ParkedDelivery | null> {
    const rows: Array<{ id: string; endpoint_id: string; event_id: string; body: Buffer; attempt: number }> = await this.dataSource.query(
      `UPDATE delivery_retry SET locked_until = now() + make_interval(secs => $2::double precision / 1000)
       WHERE id = (
         SELECT id FROM delivery_retry
         WHERE endpoint_id = $1 AND failed_at IS NULL AND (locked_until IS NULL OR locked_until < now())
         ORDER BY next_attempt_at
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING id, endpoint_id, event_id, body, attempt`,
      [endpointId, lockMs],
    );
    const row = returnedRows(rows)[0];
    return row ? { id: row.id, endpointId: row.endpoint_id, eventId: row.event_id, body: row.body, attempt: row.attempt } : null;
  }

  /** Deletes delivery log lines older than `retentionMs`. */
  async pruneLog(retentionMs: number): Promise<void> {
    await this.dataSource.query('DELETE FROM delivery_attempt WHERE attempted_at < now() - make_interval(secs => $1::double precision / 1000)', [retentionMs]);
  }

  async reschedule(id: string, attempt: number, at: Date): Promise<void> {
    await this.dataSource.query('UPDATE delivery_retry SET attempt = $2, next_attempt_at = $3, locked_until = NULL WHERE id = $1', [id, attempt, at]);
  }

  async remove(id: string): Promise<void> {
    await this.dataSource.query('DELETE FROM delivery_retry WHERE id = $1', [id]);
  }

  /** Keeps a delivery that will not be attempted again, with its body, for resendDelivery. */
  async markFailed(endpointId: string, eventId: string, body: Uint8Array): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO delivery_retry (endpoint_id, event_id, body, attempt, next_attempt_at, failed_at)
       VALUES ($1, $2, $3, 0, now(), now())
       ON CONFLICT (endpoint_id, event_id) DO UPDATE SET failed_at = now(), locked_until = NULL`,
      [endpointId, eventId, Buffer.from(body)],
    );
  }

  async setState(endpointId: string, state: string): Promise<void> {
    await this.dataSource.query('UPDATE endpoint SET state = $2, last_modified = now() WHERE id = $1', [endpointId, state]);
  }

  async logAttempts(records: AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO delivery_attempt (endpoint_id, event_id, attempt, attempted_at, status_code, duration_ms, error, response_body, outcome)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::int[], $4::timestamptz[], $5::int[], $6::int[], $7::text[], $8::text[], $9::text[])`,
      [
        records.map((record) => record.endpointId),
        records.map((record) => record.eventId),
        records.map((record) => record.attempt),
        records.map((record) => record.attemptedAt),
        records.map((record) => record.statusCode),
        records.map((record) => record.durationMs),
        records.map((record) => record.error),
        records.map((record) => record.responseBody),
        records.map((record) => record.outcome),
      ],
    );
  }
}
