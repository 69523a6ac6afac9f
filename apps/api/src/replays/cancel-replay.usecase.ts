import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';
import { ListReplayJobs } from './list-replay-jobs.usecase.js';
import type { ReplayJobModel } from './replay-job.model.js';

@Injectable()
export class CancelReplay {
  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: ListReplayJobs,
  ) {}

  /** Asks the job's worker to stop after its current batch; a job not taken yet never starts. */
  async execute(jobId: string): Promise<ReplayJobModel> {
    const key = parseUuid('id', jobId);
    await this.dataSource.query('UPDATE replay_job SET cancel_requested_at = COALESCE(cancel_requested_at, now()) WHERE id = $1', [key]);
    const job = await this.jobs.find(key);
    if (!job) throw new ApiError('NOT_FOUND', `no replay job ${jobId}`, 'id');
    return job;
  }
}
