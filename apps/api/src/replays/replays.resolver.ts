import { UseGuards } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Pagination } from '../graphql/collection.model.js';
import { TokenGuard, WholeInstallation } from '../graphql/token.guard.js';
import { ReplayJobCollection, ReplayJobFilters, ReplayJobModel, ReplayJobOrder, StartReplayInput } from './replay-job.model.js';
import { CancelReplay } from './cancel-replay.usecase.js';
import { ListReplayJobs } from './list-replay-jobs.usecase.js';
import { StartReplay } from './start-replay.usecase.js';

/** Replays as jobs: started and cancelled here, run by the webhook-dispatcher's replicas (docs/operations.md). */
@Resolver(() => ReplayJobModel)
@UseGuards(TokenGuard)
export class ReplayJobsResolver {
  constructor(
    private readonly startJob: StartReplay,
    private readonly cancelJob: CancelReplay,
    private readonly jobs: ListReplayJobs,
  ) {}

  @Mutation(() => ReplayJobModel, { description: 'Starts a replay job (QUEUED until a dispatcher replica takes it); a dry run counts what it would send, by endpoint.' })
  startReplay(@Args('input', { type: () => StartReplayInput }) input: StartReplayInput) {
    return this.startJob.execute(input);
  }

  @Mutation(() => ReplayJobModel, { description: 'Stops a replay after the batch it is sending; what was sent stays sent.' })
  cancelReplay(@Args('id', { type: () => ID }) id: string) {
    return this.cancelJob.execute(id);
  }

  @Query(() => ReplayJobModel, { nullable: true })
  @WholeInstallation()
  replayJob(@Args('id', { type: () => ID }) id: string) {
    return this.jobs.find(id);
  }

  @Query(() => ReplayJobCollection, { description: 'Replay jobs; newest first by default.' })
  @WholeInstallation()
  replayJobs(
    @Args('filters', { type: () => ReplayJobFilters, nullable: true }) filters?: ReplayJobFilters,
    @Args('order', { type: () => ReplayJobOrder, nullable: true }) order?: ReplayJobOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.jobs.list(filters, order, pagination);
  }
}
