import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsOptional, ValidateNested } from 'class-validator';
import type { EventType } from '@app/events';
import { EventTypeValue } from '../graphql/event-type.enum.js';
import { IsName } from '../endpoints/endpoint-input.js';
import { EndpointModel } from '../endpoints/endpoint.model.js';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';
import { IsIds } from '../graphql/input-rules.js';

/** The most values one list of a filter (its endpoints, each condition) may have. */
export const MAX_FILTER_VALUES = 10_000;

@ObjectType('EventFilterConditions', { description: 'Every non-empty condition must hold; within one, any value matches.' })
export class EventFilterConditionsModel {
  @Field(() => [ID])
  cameraIds!: string[];

  @Field(() => [ID])
  agentIds!: string[];

  @Field(() => [ID], { description: 'Watchlists: holds when any candidate is in one of these profile groups.' })
  profileGroupIds!: string[];

  @Field(() => [EventTypeValue])
  eventTypes!: EventType[];
}

@ObjectType('EventFilter')
export class EventFilterModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => [EndpointModel])
  endpoints!: EndpointModel[];

  @Field(() => EventFilterConditionsModel)
  in!: EventFilterConditionsModel;

  @Field({ description: 'False when the filter has no endpoint: it routes nothing.' })
  routesEvents!: boolean;

  @Field(() => GraphQLISODateTime)
  creationDate!: Date;

  @Field(() => GraphQLISODateTime)
  lastModified!: Date;
}

@ObjectType('EventFilterCollection')
export class EventFilterCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [EventFilterModel])
  collectionItems!: EventFilterModel[];
}

/** Event types need no rule: GraphQL refuses any value outside the EventType enum. */
@InputType()
export class EventFilterConditionsInput {
  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @IsIds(MAX_FILTER_VALUES)
  cameraIds?: string[];

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @IsIds(MAX_FILTER_VALUES)
  agentIds?: string[];

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @IsIds(MAX_FILTER_VALUES)
  profileGroupIds?: string[];

  @Field(() => [EventTypeValue], { nullable: true })
  eventTypes?: EventType[];
}

/** The endpoints' existence is checked where they are loaded (EndpointRegistry.existing). */
@InputType()
export class EventFiltersInput {
  @Field()
  @IsName()
  name!: string;

  @Field(() => [ID], { nullable: true, defaultValue: [] })
  @IsOptional()
  @IsIds(MAX_FILTER_VALUES)
  endpointIds?: string[];

  @Field(() => EventFilterConditionsInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => EventFilterConditionsInput)
  in?: EventFilterConditionsInput;
}

@InputType({ description: 'Only the fields given change; a condition given as [] no longer restricts.' })
export class EventFiltersUpdateInput {
  @Field({ nullable: true })
  @IsOptional()
  @IsName()
  name?: string;

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @IsIds(MAX_FILTER_VALUES)
  endpointIds?: string[];

  @Field(() => EventFilterConditionsInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => EventFilterConditionsInput)
  in?: EventFilterConditionsInput;
}

@InputType()
export class EventFilterFilters {
  @Field(() => IdFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  id?: IdFilter;
}

@InputType()
export class EventFilterOrder {
  @Field(() => SortDirection, { nullable: true })
  creationDate?: SortDirection;

  @Field(() => SortDirection, { nullable: true })
  lastModified?: SortDirection;
}
