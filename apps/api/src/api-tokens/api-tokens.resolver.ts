import { UseGuards } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Pagination } from '../graphql/collection.model.js';
import { AdminOnly, TokenGuard } from '../graphql/token.guard.js';
import { ApiTokenCollection, ApiTokenModel, CreateApiTokenArgs, CreatedApiTokenModel } from './api-token.model.js';
import { CreateApiToken } from './create-api-token.usecase.js';
import { ListApiTokens } from './list-api-tokens.usecase.js';
import { RevokeApiToken } from './revoke-api-token.usecase.js';

@Resolver(() => ApiTokenModel)
@UseGuards(TokenGuard)
export class ApiTokensResolver {
  constructor(
    private readonly list: ListApiTokens,
    private readonly create: CreateApiToken,
    private readonly revoke: RevokeApiToken,
  ) {}

  @Query(() => ApiTokenCollection, { description: 'Named API tokens, newest first (ADMIN tokens only).' })
  @AdminOnly()
  apiTokens(@Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination) {
    return this.list.execute(pagination);
  }

  @Mutation(() => CreatedApiTokenModel, { description: 'Makes a named token; the answer is the only time the token is shown. Accepted everywhere once this returns.' })
  createApiToken(@Args() args: CreateApiTokenArgs) {
    return this.create.execute(args);
  }

  @Mutation(() => ApiTokenModel, { description: 'Revokes a named token: refused by the API, ingest and the websocket gateway once this returns.' })
  revokeApiToken(@Args('id', { type: () => ID }) id: string) {
    return this.revoke.execute(id);
  }
}
