import { BadRequestException, Body, Controller, Delete, ForbiddenException, Get, Header, HttpCode, Inject, Post, Req, Res, UnauthorizedException, UnsupportedMediaTypeException } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Principal } from '@app/domain';
import { AccessTokens, TokenScope } from '@app/messaging';
import { API_TOKENS } from '../api.tokens.js';
import { DashboardSessions } from './dashboard-sessions.js';

/** What the dashboard learns of its session: enough to show what the token may do, never the token. */
interface SessionView {
  scope: TokenScope;
  /** The endpoints a scoped READ_ONLY token reads; null: every one. */
  endpointIds: readonly string[] | null;
}

const view = ({ scope, endpointIds }: Principal): SessionView => ({ scope, endpointIds });

/**
 * A sign-in comes from the dashboard's own page: a JSON body (which a form on
 * another site cannot send without CORS), and not from another site as far
 * as the browser says (`Sec-Fetch-Site`). Otherwise another site could sign a
 * visitor in with a token of its choosing.
 */
function refuseForeignSignIn(request: Request): void {
  if (!request.is('application/json')) throw new UnsupportedMediaTypeException({ code: 'BAD_USER_INPUT', message: 'sign in with a JSON body: {"token": "…"}' });
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new ForbiddenException({ code: 'FORBIDDEN', message: 'sign in from the dashboard’s own page' });
}

/**
 * `/event-service/session`: the dashboard signs in with an API token (POST),
 * asks who it is (GET) and signs out (DELETE). The token travels once, in
 * the sign-in's body, and comes back only as an httpOnly cookie. Signing out
 * drops the browser's cookie; a copy of it stays valid until it expires
 * (8 hours) or its token is revoked.
 */
@Controller('event-service/session')
export class SessionController {
  constructor(
    private readonly sessions: DashboardSessions,
    @Inject(API_TOKENS) private readonly tokens: AccessTokens,
  ) {}

  @Post()
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  signIn(@Body() body: unknown, @Req() request: Request, @Res({ passthrough: true }) response: Response): SessionView {
    refuseForeignSignIn(request);
    const token = typeof body === 'object' && body !== null ? (body as { token?: unknown }).token : undefined;
    if (typeof token !== 'string' || token.trim().length === 0) {
      throw new BadRequestException({ code: 'BAD_USER_INPUT', field: 'token', message: 'an API token is required' });
    }
    const session = this.sessions.signIn(token.trim());
    if (!session) {
      throw new UnauthorizedException({ code: 'UNAUTHENTICATED', field: 'token', message: 'this token is not valid here (unknown, revoked, or an AGENT token)' });
    }
    response.setHeader('set-cookie', session.cookie);
    return view(session.principal);
  }

  @Get()
  @Header('cache-control', 'no-store')
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
