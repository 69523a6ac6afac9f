import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { z } from 'zod';

const KEY_BYTES = 32;
const VERSION = 'v1';

/**
 * `CONFIG_SECRET_KEY`: 32 bytes, base64 or hex, that encrypt the webhook
 * secrets travelling over NATS. Production refuses to start without it; other
 * environments fall back to a fixed development key (not secret).
 */
export const configSecretKeyEnv = {
  CONFIG_SECRET_KEY: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === '') return undefined;
      const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
      if (key.length !== KEY_BYTES) {
        ctx.addIssue({ code: 'custom', message: `must be ${KEY_BYTES} bytes, as 64 hex digits or base64 (openssl rand -base64 32)` });
        return z.NEVER;
      }
      return key;
    }),
};

/** The key to use: the configured one, or in development a fixed, publicly known one. */
export function resolveConfigSecretKey(configured: Buffer | undefined, nodeEnv: string): { key: Buffer; development: boolean } {
  if (configured) return { key: configured, development: false };
  if (nodeEnv === 'production') {
    throw new Error('CONFIG_SECRET_KEY is not set: production refuses to send webhook secrets over NATS unencrypted by a key of its own');
  }
  new Logger('Config').warn('CONFIG_SECRET_KEY is not set: webhook secrets in the config bucket are sealed with the public development key');
  return { key: createHash('sha256').update('event-service development config key').digest(), development: true };
}

/**
 * Seals secrets (AES-256-GCM) for the config bucket, and opens them. The nonce
 * is derived from the plaintext (HMAC, as in SIV), so sealing the same value
 * twice gives the same text: the api's reconcile can compare sealed values
 * without rewriting them, and a nonce is never reused for two plaintexts.
 * Each value is bound to its key in the bucket (`context`, authenticated
 * data): a sealed value copied under another endpoint's key does not open.
 */
export class SecretBox {
  private readonly encryptionKey: Buffer;
  private readonly nonceKey: Buffer;

  constructor(key: Buffer) {
    this.encryptionKey = createHmac('sha256', key).update('encryption').digest();
    this.nonceKey = createHmac('sha256', key).update('nonce').digest();
  }

  seal(value: unknown, context: string): string {
    const plaintext = Buffer.from(JSON.stringify(value));
    const nonce = createHmac('sha256', this.nonceKey).update(context).update('\0').update(plaintext).digest().subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, nonce);
    cipher.setAAD(Buffer.from(context));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [VERSION, nonce.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
  }

  /** Throws when the text was not sealed with this key for this context (or was changed). */
  open<T>(text: string, context: string): T {
    const [version, nonce, tag, sealed] = text.split('.');
    if (version !== VERSION || !nonce || !tag || sealed === undefined) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, Buffer.from(nonce, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    const plaintext = Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]);
    return JSON.parse(plaintext.toString()) as T;
  }
}

/** An endpoint's signing material as it travels to the dispatcher (sealed). */
export interface EndpointSecrets {
  current: string;
  previous: string | null;
  /** ISO time after which `previous` no longer signs. */
  previousExpiresAt: string | null;
  /** Sent with every delivery (the receiver's own auth, for example). */
  customHeaders: Record<string, string>;
}
