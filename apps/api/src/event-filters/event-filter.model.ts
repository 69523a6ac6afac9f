import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import type { EventType } from '@app/events';
import { EventTypeValue } from '../graphql/event-type.enum.js';
import { EndpointModel } from '../endpoints/endpoint.model.js';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';


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

@InputType()
export class EventFilterConditionsInput {
  @Field(() => [ID], { nullable: true })
  cameraIds?: string[];

  @Field(() => [ID], { nullable: true })
  agentIds?: string[];

  @Field(() => [ID], { nullable: true })
  profileGroupIds?: string[];

  @Field(() => [EventTypeValue], { nullable: true })
  eventTypes?: EventType[];
}

@InputType()
export class EventFiltersInput {
  @Field()
  name!: string;

  @Field(() => [ID], { nullable: true, defaultValue: [] })
  endpointIds?: string[];

  @Field(() => EventFilterConditionsInput, { nullable: true })
  in?: EventFilterConditionsInput;
}

@InputType({ description: 'Only the fields given change; a condition given as [] no longer restricts.' })
export class EventFiltersUpdateInput {
  @Field({ nullable: true })
  name?: string;

  @Field(() => [ID], { nullable: true })
  endpointIds?: string[];

  @Field(() => EventFilterConditionsInput, { nullable: true })
  in?: EventFilterConditionsInput;
}

@InputType()
export class EventFilterFilters {
  @Field(() => IdFilter, { nullable: true })
  id?: IdFilter;
}

@InputType()
export class EventFilterOrder {
  @Field(() => SortDirection, { nullable: true })
  creationDate?: SortDirection;

  @Field(() => SortDirection, { nullable: true })
  lastModified?: SortDirection;
}
