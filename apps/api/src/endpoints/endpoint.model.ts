import { applyDecorators } from '@nestjs/common';
import { ArgsType, Field, GraphQLISODateTime, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsOptional, ValidateNested } from 'class-validator';
import { EndpointState, EndpointType } from '@app/messaging';
import { IdFilter, SortDirection } from '../graphql/collection.model.js';
import { IsCustomHeaderName, IsCustomHeaderValue, IsMaxRate, IsName, IsWebhookUrl, WebhookMethod } from './endpoint-input.js';

registerEnumType(EndpointType, { name: 'EndpointType' });

registerEnumType(EndpointState, {
  name: 'EndpointState',
  description: 'Whether a webhook endpoint is sent to: a pause by hand, else its delivery health.',
  valuesMap: {
    ACTIVE: { description: 'Deliveries are sent.' },
    PAUSED_BY_FAILURES: { description: 'Too many failed attempts in a row: deliveries wait, one probe now and then.' },
    DISABLED_GONE: { description: 'The receiver answered 410 Gone: nothing is sent until resumeEndpoint.' },
    PAUSED_BY_HAND: { description: 'Paused by pauseEndpoint: deliveries wait until resumeEndpoint.' },
  },
});

registerEnumType(WebhookMethod, { name: 'WebhookMethod', description: 'The HTTP method a webhook is sent with.' });

@ObjectType('WebSocketAccess')
export class WebSocketAccessModel {
  @Field()
  requireToken!: boolean;

  @Field(() => [String])
  allowedOrigins!: string[];

  @Field(() => Int, { nullable: true })
  maxConnections!: number | null;
}

@ObjectType('EndpointMeta', { description: 'Type-specific settings; a webhook has its url and method.' })
export class EndpointMetaModel {
  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => WebhookMethod, { nullable: true })
  method?: WebhookMethod | null;

  @Field(() => [String], { nullable: true, description: "Names of the webhook's custom headers (their values are never shown)." })
  headerNames?: string[] | null;

  @Field(() => Int, { nullable: true, description: 'At most this many deliveries a second (per dispatcher replica); null: no limit.' })
  maxRatePerSecond?: number | null;

  @Field(() => WebSocketAccessModel, { nullable: true, description: 'Who may connect to a websocket endpoint; null: anyone with its id (setWebSocketAccess).' })
  access?: WebSocketAccessModel | null;

  @Field(() => Boolean, { nullable: true, description: 'Whether a websocket endpoint has its own connection token (rotateWebSocketToken); the token itself is never shown again.' })
  hasOwnToken?: boolean | null;
}

@InputType()
export class HeaderInput {
  @Field()
  @IsCustomHeaderName()
  name!: string;

  @Field()
  @IsCustomHeaderValue()
  value!: string;
}

/** A webhook's custom headers argument (optional), each checked by HeaderInput's rules. */
function HeadersField(): PropertyDecorator {
  return applyDecorators(Field(() => [HeaderInput], { nullable: true }), IsOptional(), ValidateNested({ each: true }), Type(() => HeaderInput));
}

@ArgsType()
export class CreateWebSocketEndpointArgs {
  @Field()
  @IsName()
  name!: string;
}

@ArgsType()
export class CreateWebhookEndpointArgs {
  @Field()
  @IsName()
  name!: string;

  @Field()
  @IsWebhookUrl()
  url!: string;

  @Field(() => WebhookMethod, { nullable: true, defaultValue: WebhookMethod.POST })
  method?: WebhookMethod | null;

  @HeadersField()
  headers?: HeaderInput[] | null;

  @Field(() => Int, { nullable: true, description: 'At most this many deliveries a second (per dispatcher replica); none when unset.' })
  @IsOptional()
  @IsMaxRate()
  maxRatePerSecond?: number | null;
}

/** Only the fields given change. */
@ArgsType()
export class UpdateEndpointArgs {
  /** Parsed where the endpoint is looked up (parseUuid), as every id argument. */
  @Field(() => ID)
  id!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsName()
  name?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsWebhookUrl()
  url?: string | null;

  @Field(() => WebhookMethod, { nullable: true })
  method?: WebhookMethod | null;

  @HeadersField()
  headers?: HeaderInput[] | null;

  @Field(() => Int, { nullable: true, description: 'A webhook delivery rate limit; 0 removes it.' })
  @IsOptional()
  @IsMaxRate()
  maxRatePerSecond?: number | null;
}

@ObjectType('Endpoint')
export class EndpointModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => EndpointType)
  type!: EndpointType;

  @Field(() => EndpointMetaModel)
  meta!: EndpointMetaModel;

  @Field(() => EndpointState)
  state!: EndpointState;

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
  @Field(() => EndpointType, { nullable: true })
  exact?: EndpointType;
}

@InputType()
export class EndpointFilters {
  @Field(() => IdFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdFilter)
  id?: IdFilter;

  @Field(() => EndpointTypeFilter, { nullable: true })
  type?: EndpointTypeFilter;
}

@InputType()
export class EndpointOrder {
  @Field(() => SortDirection, { nullable: true })
  creationDate?: SortDirection;
}
