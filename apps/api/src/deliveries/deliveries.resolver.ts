import { UseGuards } from '@nestjs/common';
import { Args, Context, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import type { Request } from 'express';
import { Pagination } from '../graphql/collection.model.js';
import { reachOf } from '../graphql/endpoint-reach.js';
import { TokenGuard } from '../graphql/token.guard.js';
import { DeliveryAttemptCollection, DeliveryAttemptFilters, DeliveryAttemptModel, DeliveryAttemptOrder } from './delivery.model.js';
import { ListDeliveryAttempts } from './list-delivery-attempts.usecase.js';
import { ResendDelivery } from './resend-delivery.usecase.js';
import { SendTestEvent } from './send-test-event.usecase.js';

@Resolver(() => DeliveryAttemptModel)
@UseGuards(TokenGuard)
export class DeliveriesResolver {
  constructor(
    private readonly attempts: ListDeliveryAttempts,
    private readonly resend: ResendDelivery,
    private readonly sendTest: SendTestEvent,
  ) {}

  @Query(() => DeliveryAttemptCollection, { description: 'The delivery log: attempts per endpoint and per event, newest first by default.' })
  deliveryAttempts(
    @Context('req') request: Request,
    @Args('filters', { type: () => DeliveryAttemptFilters, nullable: true }) filters?: DeliveryAttemptFilters,
    @Args('order', { type: () => DeliveryAttemptOrder, nullable: true }) order?: DeliveryAttemptOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.attempts.execute(reachOf(request), filters, order, pagination);
  }

  @Mutation(() => Boolean, { description: 'Attempts a failed webhook delivery again.' })
  resendDelivery(@Args('endpointId', { type: () => ID }) endpointId: string, @Args('eventId', { type: () => ID }) eventId: string) {
    return this.resend.execute(endpointId, eventId);
  }

  @Mutation(() => ID, { description: 'Sends a sample event to this endpoint only; returns its event id.' })
  sendTestEvent(@Args('endpointId', { type: () => ID }) endpointId: string) {
    return this.sendTest.execute(endpointId);
  }
}
