import { Field, Float, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';
import { IsDateTime } from '../graphql/input-rules.js';

export enum ReplayKind {
  REDELIVER = 'REDELIVER',
  REROUTE = 'REROUTE',
}
registerEnumType(ReplayKind, {
  name: 'ReplayKind',
  description: 'REDELIVER: one endpoint’s deliveries in a time range, again. REROUTE: a time range of events through today’s filters, to the endpoints that were not routed them.',
});

export enum ReplayState {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(ReplayState, { name: 'ReplayState', description: 'QUEUED: no worker has taken it yet.' });

/** The most deliveries a second a job may ask for; the workers' REPLAY_TOTAL_RATE_PER_SECOND caps it further. */
export const MAX_REPLAY_RATE = 100_000;

@ObjectType('ReplayReach', { description: 'How many deliveries a replay sent (a dry run: would send) to one endpoint.' })
export class ReplayReachModel {
  @Field(() => ID)
  endpointId!: string;

  @Field(() => Int)
  events!: number;
}

@ObjectType('ReplayJob', { description: 'A replay, run by a webhook-dispatcher replica; progress moves once a batch is stored.' })
export class ReplayJobModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ReplayKind)
  kind!: ReplayKind;

  @Field(() => ID, { nullable: true, description: 'The endpoint a REDELIVER re-sends to.' })
  endpointId!: string | null;

  @Field(() => GraphQLISODateTime)
  from!: Date;

  @Field(() => GraphQLISODateTime, { description: 'The end of the range; nothing stored after the job was created is read.' })
  to!: Date;

  @Field({ description: 'Counts what would be sent, sends nothing.' })
  dryRun!: boolean;

  @Field(() => Int, { nullable: true, description: 'The job’s own cap, deliveries a second; null: the workers’ default (REPLAY_RATE_PER_SECOND).' })
  ratePerSecond!: number | null;

  @Field(() => ReplayState)
  state!: ReplayState;

  @Field(() => Int, { nullable: true, description: 'Messages in the range when a worker took the job (null before).' })
  total!: number | null;

  @Field(() => Int, { description: 'Messages read.' })
  done!: number;

  @Field(() => Int, { description: 'Deliveries sent (a dry run: that would be).' })
  sent!: number;

  @Field(() => Int, { description: 'Messages read that sent nothing: an earlier replay’s copies, events whose candidates were all deleted since, events every target already had.' })
  skipped!: number;

  @Field(() => Float, { nullable: true, description: 'Messages read a second, lately.' })
  rate!: number | null;

  @Field(() => Int, { nullable: true, description: 'Seconds left at that rate.' })
  etaSeconds!: number | null;

  @Field(() => [ReplayReachModel], { description: 'Deliveries by endpoint, most first.' })
  reached!: ReplayReachModel[];

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  startedAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => String, { nullable: true, description: 'The replica running it (host:pid).' })
  worker!: string | null;
}

@ObjectType('ReplayJobCollection')
export class ReplayJobCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [ReplayJobModel])
  collectionItems!: ReplayJobModel[];
}

@InputType()
export class StartReplayInput {
  @Field(() => ReplayKind)
  kind!: ReplayKind;

  @Field(() => ID, { nullable: true, description: 'REDELIVER: the endpoint (webhook or websocket). REROUTE: none.' })
  endpointId?: string;

  @Field(() => GraphQLISODateTime)
  @IsDateTime()
  from!: Date;

  @Field(() => GraphQLISODateTime)
  @IsDateTime()
  to!: Date;

  @Field({ nullable: true, description: 'Count what would be sent, by endpoint; send nothing.' })
  dryRun?: boolean;

  @Field(() => Int, { nullable: true, description: `Deliveries a second (1 to ${MAX_REPLAY_RATE}); the workers’ REPLAY_TOTAL_RATE_PER_SECOND caps all jobs together.` })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_REPLAY_RATE)
  ratePerSecond?: number;
}

@InputType()
export class ReplayStateFilter {
  @Field(() => ReplayState, { nullable: true })
  exact?: ReplayState;

  @Field(() => [ReplayState], { nullable: true })
  in?: ReplayState[];
}

@InputType()
export class ReplayKindFilter {
  @Field(() => ReplayKind, { nullable: true })
  @IsOptional()
  @IsIn(Object.values(ReplayKind))
  exact?: ReplayKind;
}

@InputType()
export class ReplayJobFilters {
  @Field(() => IdFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  id?: IdFilter;

  @Field(() => ReplayStateFilter, { nullable: true })
  state?: ReplayStateFilter;

  @Field(() => ReplayKindFilter, { nullable: true })
  kind?: ReplayKindFilter;

  @Field(() => IdFilter, { nullable: true, description: 'A REDELIVER’s endpoint.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  endpointId?: IdFilter;
}

@InputType()
export class ReplayJobOrder {
  @Field(() => SortDirection, { nullable: true, description: 'By creation; newest first by default.' })
  createdAt?: SortDirection;
}
