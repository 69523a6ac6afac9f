import { UseGuards } from '@nestjs/common';
import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import type { EventType } from '@app/events';
import type { EventFilterEntity } from '@app/persistence';
import { Pagination } from '../graphql/collection.model.js';
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
    @Args('filters', { type: () => EventFilterFilters, nullable: true }) filters?: EventFilterFilters,
    @Args('order', { type: () => EventFilterOrder, nullable: true }) order?: EventFilterOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.list.execute(filters, order, pagination);
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

  @ResolveField('routesEvents', () => Boolean)
  routesEvents(@Parent() filter: EventFilterEntity): boolean {
    return filter.endpoints.length > 0;
  }
}
