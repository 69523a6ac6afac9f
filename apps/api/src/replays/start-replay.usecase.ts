import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ReplayJobEntity } from '@app/persistence';
import { EndpointRegistry } from '../endpoints/endpoint-registry.js';
import { ApiError } from '../graphql/api.error.js';
import { ListReplayJobs } from './list-replay-jobs.usecase.js';
import { ReplayKind, type ReplayJobModel, type StartReplayInput } from './replay-job.model.js';

/** Records a replay job, QUEUED until a webhook-dispatcher replica takes it (docs/operations.md, Replays). */
@Injectable()
export class StartReplay {
  constructor(
    private readonly dataSource: DataSource,
    private readonly endpoints: EndpointRegistry,
    private readonly jobs: ListReplayJobs,
  ) {}

  async execute(input: StartReplayInput): Promise<ReplayJobModel> {
    if (!(input.from < input.to)) throw ApiError.badInput('input.to', 'must be after from');
    let endpoint: { id: string; type: string } | null = null;
    if (input.kind === ReplayKind.REDELIVER) {
      if (!input.endpointId) throw ApiError.badInput('input.endpointId', 'a REDELIVER names the endpoint whose deliveries it re-sends');
      endpoint = await this.endpoints.find(input.endpointId, 'input.endpointId');
    } else if (input.endpointId) {
      throw ApiError.badInput('input.endpointId', 'a REROUTE sends events through every filter: it names no endpoint');
    }
    const id = randomUUID();
    await this.dataSource.getRepository(ReplayJobEntity).insert({
      id,
      kind: input.kind,
      endpointId: endpoint?.id ?? null,
      endpointType: endpoint?.type ?? null,
      from: input.from,
      to: input.to,
      dryRun: input.dryRun ?? false,
      ratePerSecond: input.ratePerSecond ?? null,
    });
    return (await this.jobs.find(id))!;
  }
}
