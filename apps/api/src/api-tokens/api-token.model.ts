import { Field, GraphQLISODateTime, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { TokenScope } from '@app/messaging';

registerEnumType(TokenScope, {
  name: 'TokenScope',
  description: 'What an API token may do.',
  valuesMap: {
    ADMIN: { description: 'Everything: every query and mutation, secrets and tokens included.' },
    AGENT: { description: 'Post events to ingest only (optionally for some agent ids); nothing in this API.' },
    READ_ONLY: { description: 'Every query except those revealing secrets or tokens; no mutation.' },
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

  @Field(() => [String], { description: 'The agents an AGENT token may post events for; empty: any.' })
  agentIds!: string[];

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

@ObjectType('ApiTokenCollection')
export class ApiTokenCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [ApiTokenModel])
  collectionItems!: ApiTokenModel[];
}
