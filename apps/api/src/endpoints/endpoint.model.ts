import { Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';

export enum EndpointTypeValue {
  WEB_SOCKET = 'WEB_SOCKET',
  WEB_HOOK = 'WEB_HOOK',
}
registerEnumType(EndpointTypeValue, { name: 'EndpointType' });

@ObjectType('EndpointMeta', { description: 'Type-specific settings; a webhook has its url and method.' })
export class EndpointMetaModel {
  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => String, { nullable: true })
  method?: string | null;

  @Field(() => [String], { nullable: true, description: "Names of the webhook's custom headers (their values are never shown)." })
  headerNames?: string[] | null;
}

@InputType()
export class HeaderInput {
  @Field()
  name!: string;

  @Field()
  value!: string;
}

@ObjectType('Endpoint')
export class EndpointModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => EndpointTypeValue)
  type!: EndpointTypeValue;

  @Field(() => EndpointMetaModel)
  meta!: EndpointMetaModel;

  @Field({ description: 'ACTIVE, PAUSED_BY_FAILURES, DISABLED_GONE (the receiver answered 410) or PAUSED_BY_HAND.' })
  state!: string;

  @Field(() => GraphQLISODateTime)
  creationDate!: Date;

  @Field(() => GraphQLISODateTime)
  lastModified!: Date;
}

@ObjectType('EndpointCollection')
export class EndpointCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [EndpointModel])
  collectionItems!: EndpointModel[];
}

@InputType()
export class EndpointTypeFilter {
  @Field(() => EndpointTypeValue, { nullable: true })
  exact?: EndpointTypeValue;
}

@InputType()
export class EndpointFilters {
  @Field(() => IdFilter, { nullable: true })
  id?: IdFilter;

  @Field(() => EndpointTypeFilter, { nullable: true })
  type?: EndpointTypeFilter;
}

@InputType()
export class EndpointOrder {
  @Field(() => SortDirection, { nullable: true })
  creationDate?: SortDirection;
}
