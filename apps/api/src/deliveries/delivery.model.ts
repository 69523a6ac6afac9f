import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';

@ObjectType('DeliveryAttempt', { description: 'One attempt to deliver one event to one webhook endpoint.' })
export class DeliveryAttemptModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  endpointId!: string;

  @Field(() => ID)
  eventId!: string;

  @Field(() => Int, { description: '1 for the first attempt; 0 when nothing was sent (the endpoint was disabled).' })
  attempt!: number;

  @Field(() => GraphQLISODateTime)
  attemptedAt!: Date;

  @Field(() => Int, { nullable: true })
  statusCode!: number | null;

  @Field(() => Int)
  durationMs!: number;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true, description: 'The start of the answer (DELIVERY_LOG_BODY_BYTES).' })
  responseBody!: string | null;

  @Field({ description: 'SUCCEEDED, RETRYING (another attempt is scheduled) or FAILED (no more attempts).' })
  outcome!: string;
}

@ObjectType('DeliveryAttemptCollection')
export class DeliveryAttemptCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [DeliveryAttemptModel])
  collectionItems!: DeliveryAttemptModel[];
}

@InputType()
export class TextFilter {
  @Field({ nullable: true })
  exact?: string;
}

@InputType()
export class DateFilter {
  @Field(() => GraphQLISODateTime, { nullable: true })
  gt?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  gte?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  lt?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  lte?: Date;
}

@InputType()
export class DeliveryAttemptFilters {
  @Field(() => IdFilter, { nullable: true })
  endpointId?: IdFilter;

  @Field(() => IdFilter, { nullable: true })
  eventId?: IdFilter;

  @Field(() => TextFilter, { nullable: true })
  outcome?: TextFilter;

  @Field(() => DateFilter, { nullable: true })
  attemptedAt?: DateFilter;
}

@InputType()
export class DeliveryAttemptOrder {
  @Field(() => SortDirection, { nullable: true })
  attemptedAt?: SortDirection;
}
