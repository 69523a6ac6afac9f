import { z } from 'zod';
import { booleanVar, bytesVar, durationVar, portVar } from './load-config.js';

/**
 * Environment fragments shared by several apps. Each app composes the ones it
 * needs into its own schema, so no app is asked for variables it never reads.
 */
export const natsEnv = {
  NATS_URL: z.string().default('nats://127.0.0.1:4222'),
  /** Namespaces every subject, stream and bucket, so several installations (or tests) share one NATS. */
  NATS_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9_]{0,31}$/, 'lower-case letters, digits and _; starting with a letter')
    .default('es'),
  /** How long JetStream keeps events and deliveries (the replay window). */
  STREAM_MAX_AGE: durationVar('7d'),
  /** Window within which a re-published message id is dropped as a duplicate. */
  STREAM_DUPLICATE_WINDOW: durationVar('2m'),
  /**
   * Bytes each data-path stream may hold (JetStream reserves them). A full
   * stream refuses new messages; history every consumer has read is trimmed
   * before that (StreamTrimmer).
   */
  STREAM_MAX_BYTES: bytesVar('1GiB'),
  /** Bytes the dead-letter stream keeps; when full, its oldest entries go. */
  DEAD_LETTER_MAX_BYTES: bytesVar('256MiB'),
  /** Bytes the image store may hold; when full, events with images are refused (503) until images expire. */
  IMAGE_STORE_MAX_BYTES: bytesVar('4GiB'),
  /** Credentials for NATS, one way at most (none: the local, open server). */
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  NATS_TOKEN: z.string().min(1).optional(),
  /** A file holding a user NKey seed (`SU…`). */
  NATS_NKEY_SEED_FILE: z.string().min(1).optional(),
  /** A `.creds` file (a user JWT and its NKey seed, as `nsc` writes them). */
  NATS_CREDS_FILE: z.string().min(1).optional(),
  /** TLS: the CA that signed the server's certificate; a client certificate and its key for mutual TLS. */
  NATS_TLS_CA_FILE: z.string().min(1).optional(),
  NATS_TLS_CERT_FILE: z.string().min(1).optional(),
  NATS_TLS_KEY_FILE: z.string().min(1).optional(),
};

/** The NATS part of an app's validated config. */
export interface NatsEnv {
  NATS_URL: string;
  NATS_PREFIX: string;
  STREAM_MAX_AGE: number;
  STREAM_DUPLICATE_WINDOW: number;
  STREAM_MAX_BYTES: number;
  DEAD_LETTER_MAX_BYTES: number;
  IMAGE_STORE_MAX_BYTES: number;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  NATS_NKEY_SEED_FILE?: string;
  NATS_CREDS_FILE?: string;
  NATS_TLS_CA_FILE?: string;
  NATS_TLS_CERT_FILE?: string;
  NATS_TLS_KEY_FILE?: string;
}

export const databaseEnv = {
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/postgres'),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a lower-case PostgreSQL identifier')
    .default('event_service'),
};

export const runtimeEnv = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  /** Port of the small health/metrics listener every app has. */
  HEALTH_PORT: portVar(0),
};

export const publicUrlEnv = {
  /** Origin that integrators see; image links are built from it. */
  PUBLIC_BASE_URL: z
    .url()
    .default('http://localhost:8080')
    .transform((url) => url.replace(/\/+$/, '')),
};

export const apiTokenEnv = {
  API_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
};

export { booleanVar, bytesVar, durationVar, portVar };
