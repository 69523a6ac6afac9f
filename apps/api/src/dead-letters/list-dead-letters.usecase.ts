import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DeadLetterState } from '@app/domain';
import { deadLetterCondition } from '@app/persistence';
import { pageOf, SortDirection, type Pagination } from '../graphql/collection.model.js';
import type { DeadLetterCollection, DeadLetterFilters, DeadLetterOrder } from './dead-letter.model.js';
import { selectionOf } from './dead-letter-selection.js';

type Row = {
  seq: string;
  app: string;
  consumer: string;
  reason: string;
  detail: string;
  dead_lettered_at: Date;
  source_subject: string;
  event_id: string | null;
  body: Buffer;
  state: DeadLetterState;
  resolved_at: Date | null;
};

/** Lists the dead letters (the dispatcher's projection of the dead-letter stream), newest first by default. */
@Injectable()
export class ListDeadLetters {
  constructor(private readonly dataSource: DataSource) {}

  async execute(filters: DeadLetterFilters | undefined, order: DeadLetterOrder | undefined, pagination: Pagination | undefined): Promise<DeadLetterCollection> {
    const selection = selectionOf(filters);
    const condition = deadLetterCondition(selection, 3);
    const counted = deadLetterCondition(selection);
    const { offset, limit } = pageOf(pagination);
    const direction = order?.deadLetteredAt === SortDirection.ASC ? 'ASC' : 'DESC';
    // One snapshot for the page and its count: a dead letter projected in between is in both or in neither.
    const { rows, count } = await this.dataSource.transaction('REPEATABLE READ', async (manager) => {
      const page: Row[] = await manager.query(
        `SELECT seq, app, consumer, reason, detail, dead_lettered_at, source_subject, event_id, body, state, resolved_at
         FROM dead_letter WHERE ${condition.sql}
         ORDER BY dead_lettered_at ${direction}, seq ${direction} OFFSET $1 LIMIT $2`,
        [offset, limit, ...condition.params],
      );
      const [total]: Array<{ count: string }> = await manager.query(`SELECT count(*) AS count FROM dead_letter WHERE ${counted.sql}`, counted.params);
      return { rows: page, count: total!.count };
    });
    return {
      totalCount: Number(count),
      collectionItems: rows.map((row) => ({
        id: row.seq,
        app: row.app,
        consumer: row.consumer,
        reason: row.reason,
        detail: row.detail,
        deadLetteredAt: row.dead_lettered_at,
        sourceSubject: row.source_subject,
        eventId: row.event_id,
        message: row.body.toString('utf8'),
        state: row.state,
        resolvedAt: row.resolved_at,
      })),
    };
  }
}
