import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { DEAD_LETTER_STATES, DeadLetterState } from '@app/domain';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';
import { DateFilter } from '../deliveries/delivery.model.js';

registerEnumType(DeadLetterState, {
  name: 'DeadLetterState',
  description: 'OPEN as it came; RESUBMITTED sent back where it came from; DISCARDED put aside.',
});

/** Values one filter's `in` may list. */
const MAX_FILTER_VALUES = 1_000;
const SEQUENCE = /^[0-9]{1,18}$/;

@ObjectType('DeadLetter', { description: 'A message the data path gave up on (it can never succeed as it is), with why; resubmit it after a fix, or discard it.' })
export class DeadLetterModel {
  @Field(() => ID, { description: 'Its sequence in the dead-letter stream.' })
  id!: string;

  @Field({ description: 'The app that gave up on it: ingest, profile-sync, filter-router or webhook-dispatcher.' })
  app!: string;

  @Field({ description: 'The durable consumer that gave up on it.' })
  consumer!: string;

  @Field({ description: 'Why: a reason code (INVALID_EVENT, MISSING_HEADERS, UNKNOWN_ENDPOINT, … docs/operations.md).' })
  reason!: string;

  @Field({ description: 'The reason in words (the rejected field, the error).' })
  detail!: string;

  @Field(() => GraphQLISODateTime)
  deadLetteredAt!: Date;

  @Field({ description: 'Where it was read, and where a resubmission sends it.' })
  sourceSubject!: string;

  @Field(() => ID, { nullable: true, description: 'The event it is about, when the message names one.' })
  eventId!: string | null;

  @Field({ description: 'The message body as UTF-8 text: the event JSON, or the bytes an agent sent.' })
  message!: string;

  @Field(() => DeadLetterState)
  state!: DeadLetterState;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it was resubmitted or discarded.' })
  resolvedAt!: Date | null;
}

@ObjectType('DeadLetterCollection')
export class DeadLetterCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [DeadLetterModel])
  collectionItems!: DeadLetterModel[];
}

/** The id filter's rules for dead letters, whose ids are stream sequences rather than UUIDs (the schema's type stays IdFilter). */
class SequenceIdFilter {
  @IsOptional()
  @Matches(SEQUENCE, { message: 'must be a dead letter’s id (a whole number)' })
  exact?: string;

  @IsOptional()
  @ArrayMaxSize(MAX_FILTER_VALUES, { message: `must have at most ${MAX_FILTER_VALUES} values` })
  @Matches(SEQUENCE, { each: true, message: 'must be a dead letter’s id (a whole number)' })
  in?: string[];
}

@InputType({ description: 'Text equal to one value, or to any of a list.' })
export class StringFilter {
  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  exact?: string;

  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(MAX_FILTER_VALUES, { message: `must have at most ${MAX_FILTER_VALUES} values` })
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  in?: string[];
}

@InputType()
export class DeadLetterStateFilter {
  @Field(() => DeadLetterState, { nullable: true })
  @IsOptional()
  @IsIn(DEAD_LETTER_STATES)
  exact?: DeadLetterState;

  @Field(() => [DeadLetterState], { nullable: true })
  @IsOptional()
  @IsIn(DEAD_LETTER_STATES, { each: true })
  in?: DeadLetterState[];
}

@InputType()
export class DeadLetterFilters {
  @Field(() => IdFilter, { nullable: true, description: 'The dead letter’s id (its stream sequence).' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SequenceIdFilter)
  id?: SequenceIdFilter;

  @Field(() => StringFilter, { nullable: true, description: 'The app that gave up on it.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => StringFilter)
  app?: StringFilter;

  @Field(() => StringFilter, { nullable: true, description: 'The reason code.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => StringFilter)
  reason?: StringFilter;

  @Field(() => DeadLetterStateFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => DeadLetterStateFilter)
  state?: DeadLetterStateFilter;

  @Field(() => DateFilter, { nullable: true, description: 'When it was dead-lettered.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => DateFilter)
  deadLetteredAt?: DateFilter;
}

@InputType()
export class DeadLetterOrder {
  @Field(() => SortDirection, { nullable: true, description: 'By when it was dead-lettered.' })
  deadLetteredAt?: SortDirection;
}
