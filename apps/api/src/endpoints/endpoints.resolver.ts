import { UseGuards } from '@nestjs/common';
import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver, Int, Context } from '@nestjs/graphql';
import { EndpointState, EndpointType, effectiveState } from '@app/messaging';
import type { EndpointEntity } from '@app/persistence';
import { EventFilterModel } from '../event-filters/event-filter.model.js';
import { Pagination } from '../graphql/collection.model.js';
import { TokenGuard } from '../graphql/token.guard.js';
import { CreateEndpoint } from './create-endpoint.usecase.js';
import { DeleteEndpoint } from './delete-endpoint.usecase.js';
import { WebhookMethod } from './endpoint-input.js';
import type { ApiLoaders } from '../graphql/loaders.js';
import { EndpointCollection, EndpointFilters, EndpointModel, EndpointOrder, HeaderInput } from './endpoint.model.js';
import { ListEndpoints } from './list-endpoints.usecase.js';
import { PauseEndpoint } from './pause-endpoint.usecase.js';
import { ResumeEndpoint } from './resume-endpoint.usecase.js';
import { UpdateEndpoint } from './update-endpoint.usecase.js';

@Resolver(() => EndpointModel)
@UseGuards(TokenGuard)
export class EndpointsResolver {
  constructor(
    private readonly list: ListEndpoints,
    private readonly create: CreateEndpoint,
    private readonly update: UpdateEndpoint,
    private readonly pause: PauseEndpoint,
    private readonly resume: ResumeEndpoint,
    private readonly remove: DeleteEndpoint,
  ) {}

  @Query(() => EndpointCollection)
  endpoints(
    @Args('filters', { type: () => EndpointFilters, nullable: true }) filters?: EndpointFilters,
    @Args('order', { type: () => EndpointOrder, nullable: true }) order?: EndpointOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.list.execute(filters, order, pagination);
  }

  @Mutation(() => EndpointModel)
  createWebSocketEndpoint(@Args('name') name: string) {
    return this.create.execute({ type: EndpointType.WEB_SOCKET, name });
  }

  @Mutation(() => EndpointModel)
  createWebhookEndpoint(
    @Args('name') name: string,
    @Args('url') url: string,
    @Args('method', { type: () => WebhookMethod, nullable: true, defaultValue: WebhookMethod.POST }) method?: WebhookMethod | null,
    @Args('headers', { type: () => [HeaderInput], nullable: true }) headers?: HeaderInput[],
    @Args('maxRatePerSecond', { type: () => Int, nullable: true, description: 'At most this many deliveries a second (per dispatcher replica); none when unset.' })
    maxRatePerSecond?: number | null,
  ) {
    return this.create.execute({ type: EndpointType.WEB_HOOK, name, url, method, headers, maxRatePerSecond });
  }

  @Mutation(() => EndpointModel)
  updateEndpoint(
    @Args('id', { type: () => ID }) id: string,
    @Args('name', { type: () => String, nullable: true }) name?: string,
    @Args('url', { type: () => String, nullable: true }) url?: string,
    @Args('method', { type: () => WebhookMethod, nullable: true }) method?: WebhookMethod | null,
    @Args('headers', { type: () => [HeaderInput], nullable: true }) headers?: HeaderInput[],
    @Args('maxRatePerSecond', { type: () => Int, nullable: true, description: 'A webhook delivery rate limit; 0 removes it.' }) maxRatePerSecond?: number | null,
  ) {
    return this.update.execute(id, { name, url, method, headers, maxRatePerSecond });
  }

  @Mutation(() => EndpointModel, { description: 'Stops sending to a webhook endpoint; its deliveries wait until it is resumed.' })
  pauseEndpoint(@Args('id', { type: () => ID }) id: string) {
    return this.pause.execute(id);
  }

  @Mutation(() => EndpointModel, { description: 'Sends to a paused or disabled webhook endpoint again.' })
  resumeEndpoint(@Args('id', { type: () => ID }) id: string) {
    return this.resume.execute(id);
  }

  @Mutation(() => Boolean)
  deleteEndpoint(@Args('id', { type: () => ID }) id: string) {
    return this.remove.execute(id);
  }

  /** A pause by hand, else the dispatcher's health (unless a later resume set it aside); batched per request. */
  @ResolveField('state', () => EndpointState)
  async state(@Parent() endpoint: EndpointEntity, @Context('loaders') loaders: ApiLoaders) {
    const health = await loaders.healthOf.load(endpoint.id);
    return effectiveState(endpoint.state, endpoint.resumeGeneration, health ?? undefined);
  }

  @ResolveField('eventFilters', () => [EventFilterModel], { description: 'The filters that route events to this endpoint; none means every event.' })
  eventFilters(@Parent() endpoint: EndpointEntity, @Context('loaders') loaders: ApiLoaders) {
    return loaders.filtersOf.load(endpoint.id);
  }
}
