import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { z } from 'zod';

const KEY_BYTES = 32;
const VERSION = 'v2';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** A key that seals secrets, with the id sealed texts name it by. */
export interface SecretKey {
  id: string;
  key: Buffer;
}

function parseKey(text: string): Buffer | null {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  return key.length === KEY_BYTES ? key : null;
}

/**
 * `SECRET_KEYS`: the keys that encrypt webhook signing secrets and custom
 * header values, in PostgreSQL and on NATS: `<id>:<32 bytes as base64 or 64
 * hex digits>`, comma-separated. The first seals; the others only open what
 * older keys sealed (the api re-seals every record with the first at start,
 * docs/operations.md). Production refuses to start without it; other
 * environments fall back to a fixed development key (not secret).
 */
export const secretKeysEnv = {
  SECRET_KEYS: z
    .string()
    .optional()
    .transform((text, ctx): SecretKey[] | undefined => {
      if (text === undefined || text.trim() === '') return undefined;
      const keys: SecretKey[] = [];
      for (const [index, item] of text.split(',').entries()) {
        const colon = item.indexOf(':');
        const id = item.slice(0, colon).trim();
        const key = colon > 0 ? parseKey(item.slice(colon + 1).trim()) : null;
        if (!KEY_ID.test(id) || !key) {
          // Never the key itself in the message.
          ctx.addIssue({ code: 'custom', message: `key ${index + 1}: must be <id>:<key>, the id 1-32 letters, digits, _ or -, the key ${KEY_BYTES} bytes as base64 or 64 hex digits (openssl rand -base64 32)` });
          return z.NEVER;
        }
        if (keys.some((known) => known.id === id)) {
          ctx.addIssue({ code: 'custom', message: `key id ${id} is listed twice` });
          return z.NEVER;
        }
        keys.push({ id, key });
      }
      return keys;
    }),
};

/** The keys to use: the configured ones, or in development a fixed, publicly known one. */
export function resolveSecretKeys(configured: SecretKey[] | undefined, nodeEnv: string): SecretKey[] {
  if (configured) return configured;
  if (nodeEnv === 'production') {
    throw new Error('SECRET_KEYS is not set: production refuses to keep webhook secrets without a key of its own (SECRET_KEYS=k1:$(openssl rand -base64 32))');
  }
  new Logger('Config').warn('SECRET_KEYS is not set: webhook secrets are sealed with the public development key');
  return [{ id: 'dev', key: createHash('sha256').update('event-service development config key').digest() }];
}

/** AES-GCM's full authentication tag. */
const TAG_BYTES = 16;

class SealingKey {
  readonly encryption: Buffer;
  readonly nonce: Buffer;

  constructor(key: Buffer) {
    this.encryption = createHmac('sha256', key).update('encryption').digest();
    this.nonce = createHmac('sha256', key).update('nonce').digest();
  }
}

/**
 * Seals secrets (AES-256-GCM) for PostgreSQL and the config bucket, and
 * opens them, with the keys of SECRET_KEYS. A sealed text names its key
 * (`v2.<key id>.<nonce>.<tag>.<ciphertext>`), so a key can be replaced: the
 * first key seals, every listed key opens. The nonce is derived from the
 * plaintext (HMAC, as in SIV), so sealing the same value twice gives the same
 * text, and a nonce is never reused for two plaintexts. Each value is bound to
 * its place (`context`, authenticated data): a sealed value copied under
 * another endpoint does not open.
 */
export class SecretBox {
  private readonly keys = new Map<string, SealingKey>();
  /** The id of the key that seals (the first of SECRET_KEYS). */
  readonly currentId: string;

  constructor(keys: readonly SecretKey[]) {
    if (keys.length === 0) throw new Error('SecretBox needs a key');
    for (const { id, key } of keys) this.keys.set(id, new SealingKey(key));
    this.currentId = keys[0]!.id;
  }

  seal(value: unknown, context: string): string {
    const key = this.keys.get(this.currentId)!;
    const plaintext = Buffer.from(JSON.stringify(value));
    const nonce = createHmac('sha256', key.nonce).update(context).update('\0').update(plaintext).digest().subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, nonce);
    cipher.setAAD(Buffer.from(context));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return [VERSION, this.currentId, nonce.toString('base64url'), cipher.getAuthTag().toString('base64url'), sealed.toString('base64url')].join('.');
  }

  /** Throws when the text was not sealed with a listed key for this context (or was changed). */
  open<T>(text: string, context: string): T {
    const [version, keyId, nonce, tag, sealed] = text.split('.');
    if (version !== VERSION || !keyId || !nonce || !tag || sealed === undefined) throw new Error('not a sealed value');
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`sealed with key ${keyId}, which SECRET_KEYS does not list`);
    // The tag is pinned to GCM's full 16 bytes: a shorter one would be checked as far as it goes, and a forger's
    // odds grow with every byte cut.
    const authTag = Buffer.from(tag, 'base64url');
    if (authTag.length !== TAG_BYTES) throw new Error('not a sealed value');
    const decipher = createDecipheriv('aes-256-gcm', key.encryption, Buffer.from(nonce, 'base64url'), { authTagLength: TAG_BYTES });
    decipher.setAuthTag(authTag);
    decipher.setAAD(Buffer.from(context));
    const plaintext = Buffer.concat([decipher.update(Buffer.from(sealed, 'base64url')), decipher.final()]);
    return JSON.parse(plaintext.toString()) as T;
  }

  /** True when the text is sealed with the key that seals now (else it is due to be sealed again). */
  sealsWithCurrentKey(text: string): boolean {
    return text.startsWith(`${VERSION}.${this.currentId}.`);
  }
}

/** An endpoint's signing material, sealed in PostgreSQL and as it travels to the dispatcher. */
export interface EndpointSecrets {
  current: string;
  previous: string | null;
  /** ISO time after which `previous` no longer signs. */
  previousExpiresAt: string | null;
  /** Sent with every delivery (the receiver's own auth, for example). */
  customHeaders: Record<string, string>;
}
