import { Body, Controller, Delete, Get, HttpCode, Inject, Post, Req, Res, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AccessTokens, TokenScope, type Principal } from '@app/messaging';
import { API_TOKENS } from '../api.tokens.js';
import { DashboardSessions } from './dashboard-sessions.js';

/** What the dashboard learns of its session: enough to show what the token may do, never the token. */
interface SessionView {
  scope: TokenScope;
}

const view = (principal: Principal): SessionView => ({ scope: principal.scope });

/**
 * `/event-service/session`: the dashboard signs in with an API token (POST),
 * asks who it is (GET) and signs out (DELETE). The token travels once, in
 * the sign-in's body, and comes back only as an httpOnly cookie.
 */
@Controller('event-service/session')
export class SessionController {
  constructor(
    private readonly sessions: DashboardSessions,
    @Inject(API_TOKENS) private readonly tokens: AccessTokens,
  ) {}

  @Post()
  @HttpCode(200)
  signIn(@Body() body: unknown, @Res({ passthrough: true }) response: Response): SessionView {
    const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
    if (typeof token !== 'string' || token.trim().length === 0) {
      throw new UnauthorizedException({ code: 'BAD_USER_INPUT', field: 'token', message: 'an API token is required' });
    }
    const session = this.sessions.signIn(token.trim());
    if (!session) {
      throw new UnauthorizedException({ code: 'UNAUTHENTICATED', field: 'token', message: 'this token is not valid here (unknown, revoked, or an AGENT token)' });
    }
    response.setHeader('set-cookie', session.cookie);
    return view(session.principal);
  }

  @Get()
  current(@Req() request: Request): SessionView {
    const principal = this.tokens.resolve(this.sessions.tokenOf(request));
    if (!principal || principal.scope === TokenScope.AGENT) throw new UnauthorizedException({ code: 'UNAUTHENTICATED', message: 'not signed in' });
    return view(principal);
  }

  @Delete()
  @HttpCode(204)
  signOut(@Res({ passthrough: true }) response: Response): void {
    response.setHeader('set-cookie', this.sessions.signOut());
  }
}
