import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { TokenScope } from '@app/messaging';
import { ApiError } from './api.error.js';
import type { ApiContext } from './loaders.js';

const ADMIN_ONLY = 'event-service:admin-only';
const WHOLE_INSTALLATION = 'event-service:whole-installation';

/** A query that reveals secrets or tokens: ADMIN tokens only (mutations are, always). */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);

/** A query about the whole installation rather than some endpoints (lost events): refused to a token scoped to endpoints. */
export const WholeInstallation = () => SetMetadata(WHOLE_INSTALLATION, true);

/**
 * Every GraphQL operation needs a token (GraphqlAuthMiddleware resolved it);
 * what it may do follows its scope: ADMIN everything, READ_ONLY the queries
 * that reveal no secret (scoped to endpoints: not those about the whole
 * installation, and the rest narrowed to its endpoints by the queries
 * themselves, endpoint-reach.ts), AGENT nothing here (ingest only, refused
 * before this).
 */
@Injectable()
export class TokenGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const graphql = GqlExecutionContext.create(context);
    const principal = graphql.getContext<ApiContext>().req.principal;
    if (!principal) throw new ApiError('UNAUTHENTICATED', 'a valid token is required (header Token or Authorization: Bearer)');
    if (principal.scope === TokenScope.ADMIN) return true;
    const info = graphql.getInfo<GraphQLResolveInfo>();
    const mutation = info.parentType.name === 'Mutation';
    const adminOnly = mutation || this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, [context.getHandler(), context.getClass()]) === true;
    const wholeInstallation = this.reflector.getAllAndOverride<boolean>(WHOLE_INSTALLATION, [context.getHandler(), context.getClass()]) === true;
    if (principal.scope === TokenScope.READ_ONLY && principal.endpointIds !== null && wholeInstallation) {
      throw new ApiError('FORBIDDEN', `a token scoped to endpoints cannot read ${info.fieldName}: it concerns the whole installation`);
    }
    if (principal.scope === TokenScope.READ_ONLY && !adminOnly) return true;
    throw new ApiError('FORBIDDEN', `a ${principal.scope} token cannot ${mutation ? 'run' : 'read'} ${info.fieldName}`);
  }
}
