import { ArgsType, Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateNested } from 'class-validator';
import { DeliveryOutcome } from '@app/messaging';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';
import { IsDateTime } from '../graphql/input-rules.js';

registerEnumType(DeliveryOutcome, {
  name: 'DeliveryOutcome',
  description: 'How one delivery attempt ended.',
  valuesMap: {
    SUCCEEDED: { description: 'The receiver answered 2xx.' },
    RETRYING: { description: 'Another attempt is scheduled.' },
    FAILED: { description: 'No more attempts; resendDelivery sends it again.' },
  },
});

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

  @Field(() => DeliveryOutcome)
  outcome!: DeliveryOutcome;
}

@ObjectType('DeliveryAttemptCollection')
export class DeliveryAttemptCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [DeliveryAttemptModel])
  collectionItems!: DeliveryAttemptModel[];
}

@InputType()
export class DeliveryOutcomeFilter {
  @Field(() => DeliveryOutcome, { nullable: true })
  exact?: DeliveryOutcome;
}

@InputType()
export class DateFilter {
  @Field(() => GraphQLISODateTime, { nullable: true })
  @IsDateTime()
  gt?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  @IsDateTime()
  gte?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  @IsDateTime()
  lt?: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  @IsDateTime()
  lte?: Date;
}

@InputType()
export class DeliveryAttemptFilters {
  @Field(() => IdFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  endpointId?: IdFilter;

  @Field(() => IdFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  eventId?: IdFilter;

  @Field(() => DeliveryOutcomeFilter, { nullable: true })
  outcome?: DeliveryOutcomeFilter;

  @Field(() => DateFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => DateFilter)
  attemptedAt?: DateFilter;
}

@InputType()
export class DeliveryAttemptOrder {
  @Field(() => SortDirection, { nullable: true })
  attemptedAt?: SortDirection;
}

/** The most hours `Endpoint.deliveryOutcomes` covers: a week of hourly buckets. */
export const MAX_OUTCOME_HOURS = 168;

@ObjectType('DeliveryOutcomeBucket', { description: "One hour of a webhook endpoint's delivery log: its attempts by outcome." })
export class DeliveryOutcomeBucketModel {
  @Field(() => GraphQLISODateTime, { description: 'The start of the hour (UTC); the bucket holds the attempts of [from, from + 1 hour).' })
  from!: Date;

  @Field(() => Int)
  succeeded!: number;

  @Field(() => Int)
  retrying!: number;

  @Field(() => Int)
  failed!: number;
}

@ArgsType()
export class DeliveryOutcomesArgs {
  @Field(() => Int, { nullable: true, defaultValue: 24, description: `How many hours back, the current one included: 1 to ${MAX_OUTCOME_HOURS}.` })
  @IsInt({ message: `must be a whole number of hours from 1 to ${MAX_OUTCOME_HOURS}` })
  @Min(1, { message: `must be a whole number of hours from 1 to ${MAX_OUTCOME_HOURS}` })
  @Max(MAX_OUTCOME_HOURS, { message: `must be a whole number of hours from 1 to ${MAX_OUTCOME_HOURS}` })
  hours!: number;
}
