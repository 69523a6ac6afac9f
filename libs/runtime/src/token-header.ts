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
