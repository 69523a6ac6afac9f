import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal } from '@app/domain';
import { AccessTokens, TokenScope } from '@app/messaging';
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
 * an AGENT token (AGENT_TOKENS or a named one, bound to agent ids) or an
 * ADMIN token (API_TOKEN or a named one, any agent); a READ_ONLY token is
 * refused with 403.
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
    // An AGENT token speaks for the agents it is bound to (one made before tokens were bound: for none); ADMIN for any.
    if (principal.scope === TokenScope.AGENT && principal.agentIds.length === 0) {
      this.metrics.reject('FORBIDDEN');
      throw new ForbiddenException({ code: 'FORBIDDEN', field: null, message: 'this AGENT token is bound to no agent: make one with agentIds (createApiToken)' });
    }
    request.principal = principal;
    return true;
  }
}
