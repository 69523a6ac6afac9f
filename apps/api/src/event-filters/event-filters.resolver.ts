import { UseGuards } from '@nestjs/common';
import { Args, Context, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import type { Request } from 'express';
import type { EventType } from '@app/events';
import type { EndpointEntity, EventFilterEntity } from '@app/persistence';
import { EndpointModel } from '../endpoints/endpoint.model.js';
import { Pagination } from '../graphql/collection.model.js';
import { reachOf } from '../graphql/endpoint-reach.js';
import { TokenGuard } from '../graphql/token.guard.js';
import { CreateEventFilter } from './create-event-filter.usecase.js';
import { DeleteEventFilter } from './delete-event-filter.usecase.js';
import {
  EventFilterCollection,
  EventFilterConditionsModel,
  EventFilterFilters,
  EventFilterModel,
  EventFilterOrder,
  EventFiltersInput,
  EventFiltersUpdateInput,
} from './event-filter.model.js';
import { ListEventFilters } from './list-event-filters.usecase.js';
import { UpdateEventFilter } from './update-event-filter.usecase.js';

@Resolver(() => EventFilterModel)
@UseGuards(TokenGuard)
export class EventFiltersResolver {
  constructor(
    private readonly list: ListEventFilters,
    private readonly create: CreateEventFilter,
    private readonly update: UpdateEventFilter,
    private readonly remove: DeleteEventFilter,
  ) {}

  @Query(() => EventFilterCollection)
  eventsFilters(
    @Context('req') request: Request,
    @Args('filters', { type: () => EventFilterFilters, nullable: true }) filters?: EventFilterFilters,
    @Args('order', { type: () => EventFilterOrder, nullable: true }) order?: EventFilterOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.list.execute(reachOf(request), filters, order, pagination);
  }

  @Mutation(() => EventFilterModel)
  createEventFilters(@Args('eventFiltersInput', { type: () => EventFiltersInput }) input: EventFiltersInput) {
    return this.create.execute(input);
  }

  @Mutation(() => EventFilterModel)
  updateEventFilters(
    @Args('id', { type: () => ID }) id: string,
    @Args('eventFiltersInput', { type: () => EventFiltersUpdateInput }) input: EventFiltersUpdateInput,
  ) {
    return this.update.execute(id, input);
  }

  @Mutation(() => Boolean)
  deleteEventFilters(@Args('id', { type: () => ID }) id: string) {
    return this.remove.execute(id);
  }

  @ResolveField('in', () => EventFilterConditionsModel)
  conditions(@Parent() filter: EventFilterEntity): EventFilterConditionsModel {
    const { cameraIds, agentIds, profileGroupIds, eventTypes } = filter;
    // The column is text[], but only this api writes it, from EventType values.
    return { cameraIds, agentIds, profileGroupIds, eventTypes: eventTypes as EventType[] };
  }

  /** A filter reached through one of a scoped token's endpoints names the others it targets to no one. */
  @ResolveField('endpoints', () => [EndpointModel])
  endpoints(@Parent() filter: EventFilterEntity, @Context('req') request: Request): EndpointEntity[] {
    const reach = reachOf(request);
    return reach === null ? filter.endpoints : filter.endpoints.filter((endpoint) => reach.includes(endpoint.id));
  }

  @ResolveField('routesEvents', () => Boolean)
  routesEvents(@Parent() filter: EventFilterEntity): boolean {
    return filter.endpoints.length > 0;
  }
}
