import { UseGuards } from '@nestjs/common';
import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver, Context } from '@nestjs/graphql';
import { ConfigView, EndpointState, EndpointType, effectiveState, TokenScope } from '@app/messaging';
import type { Request } from 'express';
import type { EndpointEntity } from '@app/persistence';
import { storedMeta } from '@app/domain';
import { DeliveryOutcomeBucketModel, DeliveryOutcomesArgs } from '../deliveries/delivery.model.js';
import { EventFilterModel } from '../event-filters/event-filter.model.js';
import { Pagination } from '../graphql/collection.model.js';
import { reachOf } from '../graphql/endpoint-reach.js';
import { TokenGuard } from '../graphql/token.guard.js';
import { CreateEndpoint } from './create-endpoint.usecase.js';
import { DeleteEndpoint } from './delete-endpoint.usecase.js';
import type { ApiLoaders } from '../graphql/loaders.js';
import {
  CreateWebhookEndpointArgs,
  CreateWebSocketEndpointArgs,
  EndpointCollection,
  EndpointFilters,
  EndpointMetaModel,
  EndpointModel,
  EndpointOrder,
  UpdateEndpointArgs,
} from './endpoint.model.js';
import { ListEndpoints } from './list-endpoints.usecase.js';
import { RotateWebSocketToken } from './rotate-websocket-token.usecase.js';
import { SetWebSocketAccess } from './set-websocket-access.usecase.js';
import { SetWebSocketAccessArgs } from './websocket-access.js';
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
    private readonly setAccess: SetWebSocketAccess,
    private readonly rotateToken: RotateWebSocketToken,
    private readonly config: ConfigView,
  ) {}

  @Query(() => EndpointCollection)
  endpoints(
    @Context('req') request: Request,
    @Args('filters', { type: () => EndpointFilters, nullable: true }) filters?: EndpointFilters,
    @Args('order', { type: () => EndpointOrder, nullable: true }) order?: EndpointOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.list.execute(reachOf(request), filters, order, pagination);
  }

  @Mutation(() => EndpointModel)
  createWebSocketEndpoint(@Args() { name }: CreateWebSocketEndpointArgs) {
    return this.create.execute({ type: EndpointType.WEB_SOCKET, name });
  }

  @Mutation(() => EndpointModel)
  createWebhookEndpoint(@Args() args: CreateWebhookEndpointArgs) {
    return this.create.execute({ type: EndpointType.WEB_HOOK, ...args });
  }

  @Mutation(() => EndpointModel)
  updateEndpoint(@Args() { id, ...changes }: UpdateEndpointArgs) {
    return this.update.execute(id, changes);
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

  /**
   * A webhook's URL in full to an ADMIN token only: its path and query are
   * often the receiver's credential (a chat service's incoming-webhook URL is
   * one). A READ_ONLY token sees its origin, the rest elided.
   */
  @ResolveField('meta', () => EndpointMetaModel)
  meta(@Parent() endpoint: EndpointEntity, @Context('req') request: Request) {
    const typed = storedMeta(endpoint);
    if (typed.type === EndpointType.WEB_SOCKET) {
      const { tokenHash, ...meta } = typed.meta;
      return { ...meta, hasOwnToken: typeof tokenHash === 'string' };
    }
    const { url, ...meta } = typed.meta;
    return { ...meta, url: request.principal?.scope === TokenScope.ADMIN ? url : `${new URL(url).origin}/…` };
  }

  @Mutation(() => EndpointModel, { description: 'Sets who may connect to a websocket endpoint: a token, browser origins, a connection cap per gateway replica.' })
  setWebSocketAccess(@Args() { endpointId, access }: SetWebSocketAccessArgs) {
    return this.setAccess.execute(endpointId, access);
  }

  @Mutation(() => String, { description: "Makes the websocket endpoint's own connection token (replacing the previous one); shown this once." })
  rotateWebSocketToken(@Args('endpointId', { type: () => ID }) endpointId: string) {
    return this.rotateToken.execute(endpointId);
  }

  /** A pause by hand, else the dispatcher's health record (unless a later resume set it aside), as every app reads it. */
  @ResolveField('state', () => EndpointState)
  state(@Parent() endpoint: EndpointEntity) {
    return effectiveState(endpoint.state, endpoint.resumeGeneration, this.config.healthOf(endpoint.id));
  }

  @ResolveField('eventFilters', () => [EventFilterModel], { description: 'The filters that route events to this endpoint; none means every event.' })
  eventFilters(@Parent() endpoint: EndpointEntity, @Context('loaders') loaders: ApiLoaders) {
    return loaders.filtersOf.load(endpoint.id);
  }

  /**
   * Hourly counts of a webhook's delivery log, batched for a page of
   * endpoints (ApiLoaders.outcomesOf). Only an endpoint the token reaches is
   * ever resolved (the endpoints query narrows to its reach), as its
   * deliveryAttempts are; a websocket endpoint has no delivery log.
   */
  @ResolveField('deliveryOutcomes', () => [DeliveryOutcomeBucketModel], { description: 'A webhook endpoint’s delivery attempts by outcome, hourly, the current hour last; [] for a websocket endpoint.' })
  deliveryOutcomes(@Parent() endpoint: EndpointEntity, @Args() { hours }: DeliveryOutcomesArgs, @Context('loaders') loaders: ApiLoaders) {
    return endpoint.type === EndpointType.WEB_HOOK ? loaders.outcomesOf.load({ endpointId: endpoint.id, hours }) : [];
  }
}
