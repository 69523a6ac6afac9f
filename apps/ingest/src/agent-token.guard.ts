import { Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { TokenSet } from '@app/runtime';
import { AGENT_TOKENS } from './ingest.tokens.js';

/** Agents authenticate with `Token: <token>` or `Authorization: Bearer <token>`. */
@Injectable()
export class AgentTokenGuard implements CanActivate {
  constructor(@Inject(AGENT_TOKENS) private readonly tokens: TokenSet) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    if (!this.tokens.accepts(request.headers)) {
      throw new UnauthorizedException({ code: 'UNAUTHENTICATED', field: null, message: 'a valid token is required (header Token or Authorization: Bearer)' });
    }
    return true;
  }
}
