import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Request } from 'express';
import { TokenSet } from '@app/runtime';
import { API_TOKENS } from '../api.tokens.js';
import { ApiError } from './api.error.js';

/** Every GraphQL operation needs `Token: <token>` or `Authorization: Bearer <token>`. */
@Injectable()
export class TokenGuard implements CanActivate {
  constructor(@Inject(API_TOKENS) private readonly tokens: TokenSet) {}

  canActivate(context: ExecutionContext): boolean {
    const request = GqlExecutionContext.create(context).getContext<{ req: Request }>().req;
    if (!this.tokens.accepts(request.headers)) {
      throw new ApiError('UNAUTHENTICATED', 'a valid token is required (header Token or Authorization: Bearer)');
    }
    return true;
  }
}
