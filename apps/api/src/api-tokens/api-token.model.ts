import { ArgsType, Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IsOptional } from 'class-validator';
import { TokenScope } from '@app/messaging';
import { IsName } from '../endpoints/endpoint-input.js';
import { IsIds } from '../graphql/input-rules.js';

/** At most this many agents per AGENT token. */
export const MAX_TOKEN_AGENTS = 1_000;

/** At most this many endpoints per scoped READ_ONLY token. */
export const MAX_TOKEN_ENDPOINTS = 1_000;

registerEnumType(TokenScope, {
  name: 'TokenScope',
  description: 'What an API token may do.',
  valuesMap: {
    ADMIN: { description: 'Everything: every query and mutation, secrets and tokens included.' },
    AGENT: { description: 'Post events to ingest for the agent ids it is bound to; nothing in this API.' },
    READ_ONLY: { description: 'Every query except those revealing secrets or tokens; no mutation. Scoped to endpoints (endpointIds), only what concerns them.' },
  },
});

@ObjectType('ApiToken', { description: 'A named API token; the token itself is shown once, by createApiToken.' })
export class ApiTokenModel {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field(() => TokenScope)
  scope!: TokenScope;

  @Field(() => [String], { description: 'The agents an AGENT token may post events for (at least one; a token made before tokens were bound may have none, and then posts for none).' })
  agentIds!: string[];

  @Field(() => [ID], { nullable: true, description: 'The endpoints a READ_ONLY token may read (their filters, deliveries and websockets); null: every endpoint.' })
  endpointIds!: string[] | null;

  @Field(() => GraphQLISODateTime)
  creationDate!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true })
  revokedAt!: Date | null;
}

@ObjectType('CreatedApiToken')
export class CreatedApiTokenModel {
  @Field(() => ApiTokenModel)
  apiToken!: ApiTokenModel;

  @Field({ description: 'The token to send (`Token: <token>` or `Authorization: Bearer <token>`). Shown this once: only its hash is kept.' })
  token!: string;
}

@ArgsType()
export class CreateApiTokenArgs {
  @Field()
  @IsName()
  name!: string;

  @Field(() => TokenScope)
  scope!: TokenScope;

  @Field(() => [String], { nullable: true, description: 'For an AGENT token: the agent ids it may post events for (at least one).' })
  @IsOptional()
  @IsIds(MAX_TOKEN_AGENTS)
  agentIds?: string[] | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'For a READ_ONLY token: the only endpoints it may read (at least one); it then sees nothing global (lost events, other endpoints, any image without its signed link). Omitted: every endpoint.',
  })
  @IsOptional()
  @IsIds(MAX_TOKEN_ENDPOINTS)
  endpointIds?: string[] | null;
}

@ObjectType('ApiTokenCollection')
export class ApiTokenCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [ApiTokenModel])
  collectionItems!: ApiTokenModel[];
}
