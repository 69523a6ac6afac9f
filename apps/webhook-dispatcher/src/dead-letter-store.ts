import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeadLetterState, type DeadLetterSelection } from '@app/domain';
import { deadLetterMaxAgeMs, NatsClient } from '@app/messaging';
import { deadLetterCondition, deleteOlderThan, PruneSchedule } from '@app/persistence';

/** A dead-letter record as the projector stores it. */
export interface DeadLetterRecord {
  seq: number;
  app: string;
  consumer: string;
  reason: string;
  detail: string;
  sourceSubject: string;
  sourceSequence: number | null;
  eventId: string | null;
  headers: Record<string, string>;
  body: Uint8Array;
  deadLetteredAt: Date;
}

/** An open dead letter, as a resubmission sends it back. */
export interface OpenDeadLetter {
  seq: string;
  sourceSubject: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** TypeORM answers an UPDATE … RETURNING with [rows, count]. */
const updatedCount = (result: unknown): number => (Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0);
/** The rows an UPDATE … RETURNING answered (TypeORM gives [rows, count]). */
const updatedRows = <T>(result: unknown): T[] => (Array.isArray(result) && Array.isArray(result[0]) ? (result[0] as T[]) : []);

/**
 * `dead_letter`, the dead-letter stream's projection: this class is the one
 * code that writes it (the projector's inserts, the commands' state changes,
 * the prune after the stream's own age).
 */
@Injectable()
export class DeadLetterStore implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pruning = new PruneSchedule('dead letters', () => this.prune());

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsClient,
  ) {}

  onApplicationBootstrap(): void {
    this.pruning.start();
  }

  onApplicationShutdown(): void {
    this.pruning.stop();
  }

  /** Stores a record; idempotent by its stream sequence (a redelivered record is stored once). */
  async record(letter: DeadLetterRecord): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO dead_letter (seq, app, consumer, reason, detail, source_subject, source_sequence, event_id, headers, body, dead_lettered_at, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '${DeadLetterState.OPEN}')
       ON CONFLICT (seq) DO NOTHING`,
      [
        letter.seq,
        letter.app,
        letter.consumer,
        letter.reason,
        letter.detail,
        letter.sourceSubject,
        letter.sourceSequence,
        letter.eventId,
        JSON.stringify(letter.headers),
        Buffer.from(letter.body.buffer, letter.body.byteOffset, letter.body.byteLength),
        letter.deadLetteredAt,
      ],
    );
  }

  /** The newest dead letter's sequence ('0' when there is none). */
  async lastSeq(): Promise<string> {
    const [row]: Array<{ seq: string | null }> = await this.dataSource.query('SELECT max(seq) AS seq FROM dead_letter');
    return row?.seq ?? '0';
  }

  /** Up to `limit` OPEN dead letters of the selection with stream sequences in (`after`, `upTo`], in stream order. */
  async openBetween(selection: DeadLetterSelection, after: string, upTo: string, limit: number): Promise<OpenDeadLetter[]> {
    const condition = deadLetterCondition(selection, 4);
    const rows: Array<{ seq: string; source_subject: string; headers: Record<string, string>; body: Buffer }> = await this.dataSource.query(
      `SELECT seq, source_subject, headers, body FROM dead_letter
       WHERE state = '${DeadLetterState.OPEN}' AND seq > $1 AND seq <= $2 AND ${condition.sql}
       ORDER BY seq LIMIT $3`,
      [after, upTo, limit, ...condition.params],
    );
    return rows.map((row) => ({ seq: row.seq, sourceSubject: row.source_subject, headers: row.headers, body: row.body }));
  }

  /** Marks these dead letters RESUBMITTED, those still OPEN; returns how many it marked. */
  async markResubmitted(seqs: string[]): Promise<string[]> {
    const result: unknown = await this.dataSource.query(
      `UPDATE dead_letter SET state = '${DeadLetterState.RESUBMITTED}', resolved_at = now()
       WHERE seq = ANY ($1::bigint[]) AND state = '${DeadLetterState.OPEN}' RETURNING seq`,
      [seqs],
    );
    return updatedRows<{ seq: string }>(result).map((row) => String(row.seq));
  }

  /** Puts dead letters marked RESUBMITTED back to OPEN: their resubmission could not be published. */
  async reopen(seqs: string[]): Promise<void> {
    await this.dataSource.query(
      `UPDATE dead_letter SET state = '${DeadLetterState.OPEN}', resolved_at = NULL WHERE seq = ANY ($1::bigint[]) AND state = '${DeadLetterState.RESUBMITTED}'`,
      [seqs],
    );
  }

  /** Marks up to `limit` OPEN dead letters of the selection DISCARDED, oldest first; returns how many. */
  async discard(selection: DeadLetterSelection, limit: number): Promise<number> {
    const condition = deadLetterCondition(selection, 2);
    const result: unknown = await this.dataSource.query(
      `UPDATE dead_letter SET state = '${DeadLetterState.DISCARDED}', resolved_at = now()
       WHERE seq IN (SELECT seq FROM dead_letter WHERE state = '${DeadLetterState.OPEN}' AND ${condition.sql} ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING seq`,
      [limit, ...condition.params],
    );
    return updatedCount(result);
  }

  /** The records the stream itself no longer holds (its age: deadLetterMaxAgeMs), whatever their state. */
  private async prune(): Promise<string | null> {
    const pruned = await deleteOlderThan(this.dataSource, 'dead_letter', 'dead_lettered_at', deadLetterMaxAgeMs(this.nats.settings));
    return pruned > 0 ? `pruned ${pruned} past the dead-letter stream's age` : null;
  }
}
