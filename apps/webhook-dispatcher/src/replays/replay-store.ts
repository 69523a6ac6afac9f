import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ReplayKind, ReplayRunState } from '@app/persistence';

/** A job as the worker reads it: what was asked, and how far a worker got (null: not taken yet). */
export interface ReplayJob {
  id: string;
  kind: ReplayKind;
  endpointId: string | null;
  endpointType: string | null;
  from: Date;
  to: Date;
  dryRun: boolean;
  ratePerSecond: number | null;
  createdAt: Date;
  cancelRequested: boolean;
  progress: ReplayCounts | null;
}

/** What a run has done so far. */
export interface ReplayCounts {
  total: number | null;
  done: number;
  sent: number;
  skipped: number;
  /** The stream sequence of the last message handled. */
  position: number;
  reached: Record<string, number>;
}

type JobRow = {
  id: string;
  kind: ReplayKind;
  endpoint_id: string | null;
  endpoint_type: string | null;
  from_time: Date;
  to_time: Date;
  dry_run: boolean;
  rate_per_second: number | null;
  created_at: Date;
  cancel_requested_at: Date | null;
  worker: string | null;
  total: string | null;
  done: string | null;
  sent: string | null;
  skipped: string | null;
  position: string | null;
  reached: Record<string, number> | null;
};

const toJob = (row: JobRow): ReplayJob => ({
  id: row.id,
  kind: row.kind,
  endpointId: row.endpoint_id,
  endpointType: row.endpoint_type,
  from: row.from_time,
  to: row.to_time,
  dryRun: row.dry_run,
  ratePerSecond: row.rate_per_second,
  createdAt: row.created_at,
  cancelRequested: row.cancel_requested_at !== null,
  progress:
    row.worker === null
      ? null
      : {
          total: row.total === null ? null : Number(row.total),
          done: Number(row.done),
          sent: Number(row.sent),
          skipped: Number(row.skipped),
          position: Number(row.position),
          reached: row.reached ?? {},
        },
});

/**
 * The worker's side of replay jobs in PostgreSQL: it reads the jobs the
 * api wrote (`replay_job`) and writes their progress (`replay_progress`),
 * each write conditional on the row still naming this worker, so a replica
 * that lost the job's lease writes nothing more.
 */
@Injectable()
export class ReplayStore {
  constructor(private readonly dataSource: DataSource) {}

  get connected(): boolean {
    return this.dataSource.isInitialized;
  }

  /** Jobs not finished (never taken, or running), oldest first, and how many that send are running anywhere (dry runs send nothing). */
  async openJobs(limit: number): Promise<{ jobs: ReplayJob[]; running: number }> {
    const rows: JobRow[] = await this.dataSource.query(
      `SELECT job.*, progress.worker, progress.total, progress.done, progress.sent, progress.skipped, progress.position, progress.reached
       FROM replay_job job LEFT JOIN replay_progress progress ON progress.job_id = job.id
       WHERE progress.job_id IS NULL OR progress.finished_at IS NULL
       ORDER BY job.created_at LIMIT $1`,
      [limit],
    );
    const jobs = rows.map(toJob);
    return { jobs, running: jobs.filter((job) => job.progress !== null && !job.dryRun).length };
  }

  async cancelRequested(jobId: string): Promise<boolean> {
    const rows: Array<{ cancel_requested_at: Date | null }> = await this.dataSource.query('SELECT cancel_requested_at FROM replay_job WHERE id = $1', [jobId]);
    return rows[0]?.cancel_requested_at != null;
  }

  /** Takes the job for `worker` (it holds the lease): its progress row names it from now on; returns the progress to go on from. */
  async take(jobId: string, worker: string): Promise<ReplayCounts | null> {
    const rows: JobRow[] = await this.dataSource.query(
      `INSERT INTO replay_progress (job_id, state, worker, started_at, updated_at) VALUES ($1, 'RUNNING', $2, now(), now())
       ON CONFLICT (job_id) DO UPDATE SET worker = EXCLUDED.worker, updated_at = now() WHERE replay_progress.finished_at IS NULL
       RETURNING worker, total, done, sent, skipped, position, reached`,
      [jobId, worker],
    );
    const row = rows[0];
    return row ? toJob({ ...row, id: jobId } as JobRow).progress : null;
  }

  /** Records progress; false when the job is no longer this worker's (another took it over). */
  async record(jobId: string, worker: string, counts: ReplayCounts, rate: number | null, finished?: { state: Exclude<ReplayRunState, 'RUNNING'>; error?: string }): Promise<boolean> {
    const [, changed]: [unknown, number] = await this.dataSource.query(
      `UPDATE replay_progress SET total = $3, done = $4, sent = $5, skipped = $6, position = $7, reached = $8, rate = $9, updated_at = now(),
         state = COALESCE($10, state), error = $11, finished_at = CASE WHEN $10::text IS NULL THEN NULL ELSE now() END
       WHERE job_id = $1 AND worker = $2 AND finished_at IS NULL`,
      [jobId, worker, counts.total, counts.done, counts.sent, counts.skipped, counts.position, JSON.stringify(counts.reached), rate, finished?.state ?? null, finished?.error ?? null],
    );
    return changed > 0;
  }

  /**
   * Which of these webhook deliveries the dispatcher's ledger knows (an
   * attempt logged, or a delivery waiting or failed), as `<endpoint>:<event>`
   * keys: a re-route sends none of them again.
   */
  async knownWebhookDeliveries(endpointIds: string[], eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows: Array<{ endpoint_id: string; event_id: string }> = await this.dataSource.query(
      `SELECT endpoint_id, event_id FROM delivery_attempt WHERE event_id = ANY($2::text[]) AND endpoint_id = ANY($1::uuid[])
       UNION SELECT endpoint_id, event_id FROM delivery_retry WHERE event_id = ANY($2::text[]) AND endpoint_id = ANY($1::uuid[])`,
      [endpointIds, eventIds],
    );
    return new Set(rows.map((row) => `${row.endpoint_id}:${row.event_id}`));
  }
}
