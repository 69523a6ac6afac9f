import { Injectable, UseGuards } from '@nestjs/common';
import { Field, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { NatsClient } from '@app/messaging';
import { TokenGuard, WholeInstallation } from '../graphql/token.guard.js';

@ObjectType('ConsumerLag', { description: "A durable consumer of the data path, as JetStream counts it: what its app's replicas have yet to take and to finish." })
export class ConsumerLagModel {
  @Field({ description: 'The app whose replicas share the consumer.' })
  app!: string;

  @Field()
  stream!: string;

  @Field()
  consumer!: string;

  @Field({ description: 'False until its app has started once (the consumer is made then): the other figures are 0.' })
  exists!: boolean;

  @Field(() => Int, { description: 'Messages stored and not yet delivered to the app.' })
  pending!: number;

  @Field(() => Int, { description: 'Messages delivered and not yet acknowledged (in hand, or waiting to be redelivered).' })
  ackPending!: number;

  @Field(() => Int, { description: 'Messages delivered more than once and not yet acknowledged.' })
  redelivered!: number;
}

/** Each durable consumer's figures, from JetStream: the lag an operator would read with the `nats` CLI. */
@Injectable()
export class ReadConsumerLag {
  constructor(private readonly nats: NatsClient) {}

  async execute(): Promise<ConsumerLagModel[]> {
    return Promise.all(
      this.nats.topology.durableConsumers.map(async ({ app, stream, durable }) => {
        const info = await this.nats.manager.consumers.info(stream, durable).catch((error: Error & { code?: string }) => {
          if (/consumer not found|stream not found/i.test(error.message)) return null;
          throw error;
        });
        return {
          app,
          stream,
          consumer: durable,
          exists: info !== null,
          pending: info?.num_pending ?? 0,
          ackPending: info?.num_ack_pending ?? 0,
          redelivered: info?.num_redelivered ?? 0,
        };
      }),
    );
  }
}

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
