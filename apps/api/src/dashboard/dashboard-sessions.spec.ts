import { describe, expect, it, jest } from '@jest/globals';
import type { Request } from 'express';
import { AccessTokens, TokenScope, type TokenView } from '@app/messaging';
import { SecretBox } from '@app/webhooks';
import type { ApiConfig } from '../api.config.js';
import { DashboardSessions, SESSION_COOKIE, SESSION_LIFETIME_S } from './dashboard-sessions.js';

const ADMIN = 'admin-token-0123456789';
const noNamedTokens = { find: () => null } as unknown as TokenView;
const box = new SecretBox([{ id: 'k1', key: Buffer.alloc(32, 7) }]);

function sessions(publicBaseUrl = 'http://localhost:8080', tokens = new AccessTokens(noNamedTokens, [{ token: ADMIN, scope: TokenScope.ADMIN }])): DashboardSessions {
  return new DashboardSessions(box, tokens, { PUBLIC_BASE_URL: publicBaseUrl } as ApiConfig);
}

const requestWith = (cookie: string | undefined, headers: Record<string, string> = {}): Request => ({ headers: { ...(cookie ? { cookie } : {}), ...headers } }) as unknown as Request;
const valueOf = (cookie: string): string => cookie.split(';')[0]!.slice(SESSION_COOKIE.length + 1);

describe('DashboardSessions', () => {
  it('seals the token into an httpOnly, SameSite=Strict cookie for /event-service that opens to the token', () => {
    const signedIn = sessions().signIn(ADMIN)!;
    expect(signedIn.principal.scope).toBe(TokenScope.ADMIN);
    expect(signedIn.cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[^;]+; Path=/event-service; Max-Age=${SESSION_LIFETIME_S}; HttpOnly; SameSite=Strict$`));
    expect(signedIn.cookie).not.toContain(ADMIN);
    expect(sessions().tokenOf(requestWith(`other=1; ${signedIn.cookie.split(';')[0]}`))).toBe(ADMIN);
  });

  it('marks the cookie Secure when the public origin is https', () => {
    expect(sessions('https://events.example').signIn(ADMIN)!.cookie).toMatch(/; Secure$/);
  });

  it('refuses unknown tokens and AGENT tokens', () => {
    const tokens = new AccessTokens(noNamedTokens, [{ token: 'agent-token-0123456789', scope: TokenScope.AGENT }]);
    expect(sessions(undefined, tokens).signIn('agent-token-0123456789')).toBeNull();
    expect(sessions().signIn('unknown')).toBeNull();
  });

  it('prefers a header token, and opens no session that was changed, sealed for another purpose, or expired', () => {
    const cookie = sessions().signIn(ADMIN)!.cookie;
    expect(sessions().tokenOf(requestWith(cookie.split(';')[0], { token: 'from-header' }))).toBe('from-header');
    const value = valueOf(cookie);
    const changed = value.slice(0, -2) + (value.endsWith('A') ? 'BB' : 'AA');
    expect(sessions().tokenOf(requestWith(`${SESSION_COOKIE}=${changed}`))).toBeNull();
    const otherPurpose = box.seal({ token: ADMIN, expiresAt: Date.now() + 60_000, salt: 'x' }, 'endpoint-secrets');
    expect(sessions().tokenOf(requestWith(`${SESSION_COOKIE}=${otherPurpose}`))).toBeNull();

    jest.useFakeTimers({ now: Date.now() + (SESSION_LIFETIME_S + 1) * 1_000 });
    try {
      expect(sessions().tokenOf(requestWith(cookie.split(';')[0]))).toBeNull();
    } finally {
      jest.useRealTimers();
    }
  });

  it('signs out with an empty cookie that expires at once', () => {
    expect(sessions().signOut()).toMatch(new RegExp(`^${SESSION_COOKIE}=; Path=/event-service; Max-Age=0;`));
  });
});
