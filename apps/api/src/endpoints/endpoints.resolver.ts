import { UseGuards } from '@nestjs/common';
import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { EndpointState } from '@app/messaging';
import type { EndpointEntity } from '@app/persistence';
import { EventFilterModel } from '../event-filters/event-filter.model.js';
import { Pagination } from '../graphql/collection.model.js';
import { TokenGuard } from '../graphql/token.guard.js';
import { WebhookMethod } from './endpoint-input.js';
import { EndpointUseCases } from './endpoint-usecases.js';
import { EndpointCollection, EndpointFilters, EndpointModel, EndpointOrder, HeaderInput } from './endpoint.model.js';

@Resolver(() => EndpointModel)
@UseGuards(TokenGuard)
export class EndpointsResolver {
  constructor(private readonly useCases: EndpointUseCases) {}

  @Query(() => EndpointCollection)
  endpoints(
    @Args('filters', { type: () => EndpointFilters, nullable: true }) filters?: EndpointFilters,
    @Args('order', { type: () => EndpointOrder, nullable: true }) order?: EndpointOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.useCases.list(filters, order, pagination);
  }

  @Mutation(() => EndpointModel)
  createWebSocketEndpoint(@Args('name') name: string) {
    return this.useCases.createWebSocket(name);
  }

  @Mutation(() => EndpointModel)
  createWebhookEndpoint(
    @Args('name') name: string,
    @Args('url') url: string,
    @Args('method', { type: () => WebhookMethod, nullable: true, defaultValue: WebhookMethod.POST }) method?: WebhookMethod | null,
    @Args('headers', { type: () => [HeaderInput], nullable: true }) headers?: HeaderInput[],
  ) {
    return this.useCases.createWebhook(name, url, method, headers);
  }

  @Mutation(() => EndpointModel)
  updateEndpoint(
    @Args('id', { type: () => ID }) id: string,
    @Args('name', { type: () => String, nullable: true }) name?: string,
    @Args('url', { type: () => String, nullable: true }) url?: string,
    @Args('method', { type: () => WebhookMethod, nullable: true }) method?: WebhookMethod | null,
    @Args('headers', { type: () => [HeaderInput], nullable: true }) headers?: HeaderInput[],
  ) {
    return this.useCases.update(id, { name, url, method, headers });
  }

  @Mutation(() => EndpointModel, { description: 'Stops sending to a webhook endpoint; its deliveries wait until it is resumed.' })
  pauseEndpoint(@Args('id', { type: () => ID }) id: string) {
    return this.useCases.pause(id);
  }

  @Mutation(() => EndpointModel, { description: 'Sends to a paused or disabled webhook endpoint again.' })
  resumeEndpoint(@Args('id', { type: () => ID }) id: string) {
    return this.useCases.resume(id);
  }

  @Mutation(() => Boolean)
  deleteEndpoint(@Args('id', { type: () => ID }) id: string) {
    return this.useCases.delete(id);
  }

  @ResolveField('state', () => EndpointState)
  state(@Parent() endpoint: EndpointEntity) {
    return this.useCases.stateOf(endpoint);
  }

  @ResolveField('eventFilters', () => [EventFilterModel], { description: 'The filters that route events to this endpoint; none means every event.' })
  eventFilters(@Parent() endpoint: EndpointEntity) {
    return this.useCases.filtersOf(endpoint.id);
  }
}
