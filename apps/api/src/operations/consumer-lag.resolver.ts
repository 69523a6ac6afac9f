import { UseGuards } from '@nestjs/common';
import { Query, Resolver } from '@nestjs/graphql';
import { TokenGuard, WholeInstallation } from '../graphql/token.guard.js';
import { ConsumerLagModel } from './consumer-lag.model.js';
import { ReadConsumerLag } from './read-consumer-lag.usecase.js';

@Resolver(() => ConsumerLagModel)
@UseGuards(TokenGuard)
export class ConsumerLagResolver {
  constructor(private readonly lag: ReadConsumerLag) {}

  @Query(() => [ConsumerLagModel], { description: "The data path's durable consumers and their lag, in the order events pass them." })
  @WholeInstallation()
  consumerLag() {
    return this.lag.execute();
  }
}
