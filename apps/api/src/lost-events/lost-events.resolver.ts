import { UseGuards } from '@nestjs/common';
import { Args, Query, Resolver } from '@nestjs/graphql';
import { Pagination } from '../graphql/collection.model.js';
import { TokenGuard, WholeInstallation } from '../graphql/token.guard.js';
import { ListLostEvents } from './list-lost-events.usecase.js';
import { LostEventCollection, LostEventFilters, LostEventModel, LostEventOrder } from './lost-event.model.js';

@Resolver(() => LostEventModel)
@UseGuards(TokenGuard)
export class LostEventsResolver {
  constructor(private readonly list: ListLostEvents) {}

  @Query(() => LostEventCollection, { description: 'Events not delivered because their candidates’ profiles were deleted; newest first by default.' })
  @WholeInstallation()
  lostEvents(
    @Args('filters', { type: () => LostEventFilters, nullable: true }) filters?: LostEventFilters,
    @Args('order', { type: () => LostEventOrder, nullable: true }) order?: LostEventOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.list.execute(filters, order, pagination);
  }
}
