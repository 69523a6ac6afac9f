import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Reads the token a client sent: `Token: <t>` (OMNI's header) or `Authorization: Bearer <t>`. */
export function tokenFromHeaders(headers: IncomingHttpHeaders): string | null {
  const omni = headers['token'];
  if (typeof omni === 'string' && omni.length > 0) return omni.trim();
  const authorization = headers['authorization'];
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match) return match[1]!;
  }
  return null;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** The tokens a surface accepts, compared in constant time. */
export class TokenSet {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.filter(Boolean).map(digest);
  }

  accepts(headers: IncomingHttpHeaders): boolean {
    const token = tokenFromHeaders(headers);
    return token !== null && this.has(token);
  }

  has(token: string): boolean {
    const candidate = digest(token);
    let found = false;
    for (const known of this.digests) {
      found = timingSafeEqual(candidate, known) || found;
    }
    return found;
  }
}
