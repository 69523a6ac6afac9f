import { Field, ID, InputType, Int, ObjectType, GraphQLISODateTime } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsOptional, ValidateNested } from 'class-validator';
import type { EventType } from '@app/events';
import { EventTypeValue } from '../graphql/event-type.enum.js';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';
import { DateFilter } from '../deliveries/delivery.model.js';
import { GraphQLJSON } from '../graphql/json.scalar.js';

@ObjectType('LostEvent', { description: 'An event not delivered because every candidate’s profile had been deleted.' })
export class LostEventModel {
  @Field(() => ID, { description: 'The event id.' })
  id!: string;

  @Field(() => GraphQLJSON, { description: 'The full event, as it would have been delivered (deleted candidates removed), in the agent’s key order.' })
  event!: Record<string, unknown>;

  @Field({ description: 'Why it was not delivered: ALL_CANDIDATES_DELETED.' })
  reason!: string;

  @Field(() => [ID])
  deletedProfileIds!: string[];

  @Field(() => GraphQLISODateTime, { description: 'When profile-sync diverted it.' })
  divertedAt!: Date;
}

@ObjectType('LostEventCollection')
export class LostEventCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [LostEventModel])
  collectionItems!: LostEventModel[];
}

@InputType()
export class EventTypeFilter {
  @Field(() => EventTypeValue, { nullable: true })
  exact?: EventType;

  @Field(() => [EventTypeValue], { nullable: true })
  in?: EventType[];
}

@InputType()
export class LostEventFilters {
  @Field(() => IdFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  id?: IdFilter;

  @Field(() => EventTypeFilter, { nullable: true, description: 'The event type.' })
  type?: EventTypeFilter;

  @Field(() => IdFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  cameraId?: IdFilter;

  @Field(() => IdFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  agentId?: IdFilter;

  @Field(() => IdFilter, { nullable: true, description: 'A deleted profile of the event.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  profileId?: IdFilter;

  @Field(() => DateFilter, { nullable: true, description: 'The detection date.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => DateFilter)
  date?: DateFilter;
}

@InputType()
export class LostEventOrder {
  @Field(() => SortDirection, { nullable: true, description: 'By detection date.' })
  date?: SortDirection;
}
