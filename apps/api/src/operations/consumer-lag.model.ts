import { Field, Int, ObjectType } from '@nestjs/graphql';

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
