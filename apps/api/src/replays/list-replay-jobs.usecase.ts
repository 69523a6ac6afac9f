import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ReplayJobEntity, ReplayProgressEntity } from '@app/persistence';
import { emptyPage, idsOf, pageOf, parseUuid, SortDirection, type Pagination } from '../graphql/collection.model.js';
import { ReplayState, type ReplayJobCollection, type ReplayJobFilters, type ReplayJobModel, type ReplayJobOrder, type ReplayKind } from './replay-job.model.js';

type JobRow = ReplayJobEntity & { progress: ReplayProgressEntity | null };

/**
 * Replay jobs as the api sees them: what was asked (the api's `replay_job`)
 * with the progress the webhook-dispatcher replica running each writes
 * (`replay_progress`). The api never runs a replay itself.
 */
@Injectable()
export class ListReplayJobs {
  constructor(private readonly dataSource: DataSource) {}

  async find(jobId: string): Promise<ReplayJobModel | null> {
    const page = await this.list({ id: { exact: parseUuid('id', jobId) } }, undefined, { offset: 0, limit: 1 });
    return page.collectionItems[0] ?? null;
  }

  async list(filters: ReplayJobFilters | undefined, order: ReplayJobOrder | undefined, pagination: Pagination | undefined): Promise<ReplayJobCollection> {
    const query = this.dataSource
      .getRepository(ReplayJobEntity)
      .createQueryBuilder('job')
      .leftJoinAndMapOne('job.progress', ReplayProgressEntity, 'progress', 'progress.job_id = job.id');
    const ids = idsOf(filters?.id);
    const endpoints = idsOf(filters?.endpointId);
    // An empty `in` admits nothing (and `IN ()` is no SQL).
    if (ids?.length === 0 || endpoints?.length === 0) return emptyPage();
    if (ids) query.andWhere('job.id IN (:...ids)', { ids });
    if (endpoints) query.andWhere('job.endpoint_id IN (:...endpoints)', { endpoints });
    if (filters?.kind?.exact) query.andWhere('job.kind = :kind', { kind: filters.kind.exact });
    const states = filters?.state?.exact ? [filters.state.exact] : (filters?.state?.in ?? null);
    if (states?.length === 0) return emptyPage();
    if (states) query.andWhere(`(${STATE_SQL}) IN (:...states)`, { states });
    const { offset, limit } = pageOf(pagination);
    const direction = order?.createdAt ?? SortDirection.DESC;
    const [rows, totalCount] = await query.orderBy('job.created_at', direction).addOrderBy('job.id', direction).skip(offset).take(limit).getManyAndCount();
    return { totalCount, collectionItems: (rows as JobRow[]).map(toModel) };
  }
}

/** The state as SQL, as stateOf derives it. */
const STATE_SQL = `CASE WHEN progress.job_id IS NOT NULL THEN progress.state WHEN job.cancel_requested_at IS NOT NULL THEN 'CANCELLED' ELSE 'QUEUED' END`;

function stateOf(row: JobRow): ReplayState {
  if (row.progress) return row.progress.state as ReplayState;
  // Cancelled before a worker took it: it will not run.
  return row.cancelRequestedAt ? ReplayState.CANCELLED : ReplayState.QUEUED;
}

function toModel(row: JobRow): ReplayJobModel {
  const { progress } = row;
  const total = progress?.total == null ? null : Number(progress.total);
  const done = Number(progress?.done ?? 0);
  const state = stateOf(row);
  const rate = progress?.rate ?? null;
  return {
    id: row.id,
    kind: row.kind as ReplayKind,
    endpointId: row.endpointId,
    from: row.from,
    to: row.to,
    dryRun: row.dryRun,
    ratePerSecond: row.ratePerSecond,
    state,
    total,
    done,
    sent: Number(progress?.sent ?? 0),
    skipped: Number(progress?.skipped ?? 0),
    rate,
    etaSeconds: state === ReplayState.RUNNING && total !== null && rate ? Math.ceil(Math.max(0, total - done) / rate) : null,
    reached: Object.entries(progress?.reached ?? {})
      .map(([endpointId, events]) => ({ endpointId, events }))
      .sort((a, b) => b.events - a.events || a.endpointId.localeCompare(b.endpointId)),
    error: progress?.error ?? null,
    createdAt: row.createdAt,
    startedAt: progress?.startedAt ?? null,
    finishedAt: progress?.finishedAt ?? null,
    worker: progress?.worker ?? null,
  };
}
