import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { Principal } from '@app/domain';
import { AccessTokens, TokenScope } from '@app/messaging';
import { tokenFromHeaders } from '@app/runtime';
import { SecretBox } from '@app/webhooks';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG, API_TOKENS } from '../api.tokens.js';

export const SESSION_COOKIE = 'es_session';
/** A session ends this long after sign-in; the dashboard then asks for the token again. */
export const SESSION_LIFETIME_S = 8 * 3_600;
/** The authenticated data sealed sessions are bound to: a sealed webhook secret does not open as a session. */
const SESSION_CONTEXT = 'dashboard-session';

interface SealedSession {
  token: string;
  expiresAt: number;
  /** Makes every session's text its own (SecretBox derives its nonce from the plaintext). */
  salt: string;
}

/**
 * The dashboard's sign-in: the API token, sealed with SECRET_KEYS into an
 * httpOnly, SameSite=Strict cookie that script in the page cannot read. Any
 * api replica opens it (no session table), and the token inside is checked
 * on every request as a header token is, so revoking the token ends its sessions.
 */
@Injectable()
export class DashboardSessions {
  private readonly secure: boolean;

  constructor(
    private readonly box: SecretBox,
    @Inject(API_TOKENS) private readonly tokens: AccessTokens,
    @Inject(API_CONFIG) config: ApiConfig,
  ) {
    this.secure = config.PUBLIC_BASE_URL.startsWith('https:');
  }

  /** The cookie that signs a token in, or null when the token may not use the dashboard (unknown, revoked or AGENT). */
  signIn(token: string): { cookie: string; principal: Principal } | null {
    const principal = this.tokens.resolve(token);
    if (!principal || principal.scope === TokenScope.AGENT) return null;
    const session: SealedSession = { token, expiresAt: Date.now() + SESSION_LIFETIME_S * 1_000, salt: randomBytes(12).toString('base64url') };
    return { cookie: this.cookie(this.box.seal(session, SESSION_CONTEXT), SESSION_LIFETIME_S), principal };
  }

  /** The cookie that signs out (the browser drops it). */
  signOut(): string {
    return this.cookie('', 0);
  }

  /** The token a request carries: its Token or Authorization header, else its dashboard session. */
  tokenOf(request: Request): string | null {
    return tokenFromHeaders(request.headers) ?? this.sessionToken(request.headers.cookie);
  }

  private sessionToken(cookies: string | undefined): string | null {
    const text = cookies
      ?.split(';')
      .map((pair) => pair.trim())
      .find((pair) => pair.startsWith(`${SESSION_COOKIE}=`))
      ?.slice(SESSION_COOKIE.length + 1);
    if (!text) return null;
    try {
      const session = this.box.open<SealedSession>(decodeURIComponent(text), SESSION_CONTEXT);
      return session.expiresAt > Date.now() ? session.token : null;
    } catch {
      return null;
    }
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    return [`${SESSION_COOKIE}=${value}`, 'Path=/event-service', `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict', ...(this.secure ? ['Secure'] : [])].join('; ');
  }
}
