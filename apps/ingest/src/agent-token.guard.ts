import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AccessTokens, TokenScope, type Principal } from '@app/messaging';
import { tokenFromHeaders } from '@app/runtime';
import { AGENT_TOKENS } from './ingest.tokens.js';
import { IngestMetrics } from './ingest.metrics.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Who posted, set by AgentTokenGuard: an AGENT token may be bound to some agents. */
    principal?: Principal;
  }
}

/**
 * Agents authenticate with `Token: <token>` or `Authorization: Bearer <token>`:
 * an AGENT or ADMIN token (API_TOKEN, AGENT_TOKENS or a named one); a
 * READ_ONLY token is refused with 403.
 */
@Injectable()
export class AgentTokenGuard implements CanActivate {
  constructor(
    @Inject(AGENT_TOKENS) private readonly tokens: AccessTokens,
    private readonly metrics: IngestMetrics,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    const principal = this.tokens.resolve(tokenFromHeaders(request.headers));
    if (!principal) {
      this.metrics.reject('UNAUTHENTICATED');
      throw new UnauthorizedException({ code: 'UNAUTHENTICATED', field: null, message: 'a valid token is required (header Token or Authorization: Bearer)' });
    }
    if (principal.scope === TokenScope.READ_ONLY) {
      this.metrics.reject('FORBIDDEN');
      throw new ForbiddenException({ code: 'FORBIDDEN', field: null, message: 'a READ_ONLY token cannot post events' });
    }
    request.principal = principal;
    return true;
  }
}
