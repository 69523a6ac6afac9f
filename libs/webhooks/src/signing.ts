import { createHmac, randomBytes } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

/** A new endpoint signing secret in the Standard Webhooks form: `whsec_` and 32 random bytes, base64. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` for one secret. */
export function sign(secret: string, messageId: string, timestampSeconds: number, body: Uint8Array): string {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64');
  const hmac = createHmac('sha256', key);
  hmac.update(`${messageId}.${timestampSeconds}.`);
  hmac.update(body);
  return `v1,${hmac.digest('base64')}`;
}

/**
 * The Standard Webhooks headers of one attempt. With several secrets (a
 * rotation's grace window) every signature is sent, space-separated, so a
 * receiver holding either secret verifies the delivery.
 */
export function signatureHeaders(secrets: readonly string[], messageId: string, timestampSeconds: number, body: Uint8Array): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((secret) => sign(secret, messageId, timestampSeconds, body)).join(' '),
  };
}
