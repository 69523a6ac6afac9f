import { createHash } from 'node:crypto';
import { z } from 'zod';
import { booleanVar, bytesVar, durationVar, portVar } from './load-config.js';

/**
 * How long a profile's deletion is remembered for what is sent again
 * (resendDelivery, replay jobs, a websocket client's resume): at least
 * STREAM_MAX_AGE (replays and resumes) and the dispatcher's
 * DELIVERY_LOG_RETENTION (a failed delivery stays resendable that long).
 * profile-sync, the api, the gateway and the dispatcher read it alike.
 */
export const deletedProfilesEnv = {
  DELETED_PROFILES_MAX_AGE: durationVar('30d'),
};

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
  /**
   * Events of one agent the ingress stream holds before ingest has read them:
   * beyond it that agent's publishes are refused (it retries), so one agent
   * cannot fill the stream the others publish to.
   */
  INGRESS_MAX_PER_AGENT: z.coerce.number().int('a whole number').min(1, 'at least 1').default(10_000),
  /**
   * Copies JetStream keeps of every stream, KV bucket and object store the apps
   * create: 1 on a single server, 3 on a three-node cluster (a cluster holds at
   * most 5). Odd counts are the useful ones: a stream needs a majority of its
   * copies, so 2 survives no more losses than 1, and 4 no more than 3.
   */
  NATS_REPLICAS: z.coerce
    .number()
    .int('a whole number')
    .min(1, 'at least 1 (one copy: a single server)')
    .max(5, 'at most 5 (JetStream keeps up to 5 copies of a stream)')
    .default(1),
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
  /**
   * Where replies to this app's requests arrive (`<prefix>.<random>`) instead of `_INBOX.…`,
   * so that a NATS user may be allowed to receive only its own (docs/operations.md).
   */
  NATS_INBOX_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'subject tokens (letters, digits, _ and -) separated by dots, without wildcards')
    .optional(),
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
  INGRESS_MAX_PER_AGENT: number;
  NATS_REPLICAS: number;
  NATS_USER?: string;
  NATS_PASSWORD?: string;
  NATS_TOKEN?: string;
  NATS_NKEY_SEED_FILE?: string;
  NATS_CREDS_FILE?: string;
  NATS_TLS_CA_FILE?: string;
  NATS_TLS_CERT_FILE?: string;
  NATS_TLS_KEY_FILE?: string;
  NATS_INBOX_PREFIX?: string;
}

/**
 * The apps that read their stream in partitions (ingest, profile-sync,
 * filter-router): each partition is held by one replica at a time, so a
 * camera's events keep their order at any replica count.
 */
export const partitionsEnv = {
  /**
   * Partitions of each partitioned consumer: at most this many replicas share
   * its work. Fixed by the first replica that starts; changing it later takes
   * the procedure in docs/operations.md (Scaling).
   */
  PARTITIONS: z.coerce.number().int('a whole number').min(1, 'at least 1').max(1_024, 'at most 1024').default(16),
  /** How long a partition's lease outlives a replica that stopped renewing it: a killed replica's partitions move within this. */
  PARTITION_LEASE_TTL: durationVar('10s'),
};

export interface PartitionsEnv {
  PARTITIONS: number;
  PARTITION_LEASE_TTL: number;
}

export const databaseEnv = {
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/postgres'),
  /** The password of DATABASE_URL's user, when the URL has none (a Kubernetes secret key beside a plain URL). */
  DATABASE_PASSWORD: z.string().optional(),
  DATABASE_SCHEMA: z
    .string()
    // 44 at most: the apps' roles add up to 19 characters (`_webhook_dispatcher`) within PostgreSQL's 63.
    .regex(/^[a-z_][a-z0-9_]{0,43}$/, 'a lower-case PostgreSQL identifier of at most 44 characters')
    .default('event_service'),
};

/** Where an app's PostgreSQL is: DATABASE_URL, with DATABASE_PASSWORD in it when given, and the schema. */
export function databaseSettingsOf(config: { DATABASE_URL: string; DATABASE_PASSWORD?: string | undefined; DATABASE_SCHEMA: string }): { url: string; schema: string } {
  if (!config.DATABASE_PASSWORD) return { url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA };
  const url = new URL(config.DATABASE_URL);
  url.password = encodeURIComponent(config.DATABASE_PASSWORD);
  return { url: url.toString(), schema: config.DATABASE_SCHEMA };
}

export const runtimeEnv = {
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  /** The lowest level printed: `log` (info) leaves out the per-event detail logged at `debug`. */
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug']).default('log'),
  /** Port of the small health/metrics listener every app has. */
  HEALTH_PORT: portVar(0),
  /**
   * The address every listener of the app binds (its main port and its health port).
   * Unset: loopback only (127.0.0.1), except in production, which needs it set
   * (0.0.0.0 in a container, where the platform's network decides who reaches it).
   */
  LISTEN_HOST: z.string().min(1).optional(),
};

/** The address to listen on: LISTEN_HOST, else loopback; production refuses to guess. */
export function listenHost(config: { LISTEN_HOST?: string | undefined; NODE_ENV: string }): string {
  if (config.LISTEN_HOST) return config.LISTEN_HOST;
  if (config.NODE_ENV === 'production') throw new Error('LISTEN_HOST is not set: production refuses to guess which interfaces to listen on (0.0.0.0 in a container)');
  return '127.0.0.1';
}

export const publicUrlEnv = {
  /** Origin that integrators see; image links are built from it. */
  PUBLIC_BASE_URL: z
    .url()
    .default('http://localhost:8080')
    .transform((url) => url.replace(/\/+$/, '')),
};

/**
 * How the api serves event images, read by ingest (which writes the links)
 * and the api: `signed` (the default) — ingest signs each link with
 * IMAGE_LINK_KEY (32 bytes, base64 or 64 hex digits) until the image expires
 * (STREAM_MAX_AGE), and the api serves an image to a valid signature or an
 * unscoped API token only; `link` — the opt-out, as OMNI's: the link is an
 * unguessable capability URL, public to whoever holds it. A signed link works
 * in a browser's `<img>`, which sends no header.
 */
export const imageLinkEnv = {
  IMAGE_ACCESS: z.enum(['link', 'signed']).default('signed'),
  IMAGE_LINK_KEY: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined || text === '') return undefined;
      const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
      if (key.length !== 32) {
        ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32)' });
        return z.NEVER;
      }
      return key;
    }),
};

/** The key that signs image links; null when links are not signed. Outside production a fixed development key (not secret) stands in. */
export function resolveImageLinkKey(config: { IMAGE_ACCESS: 'link' | 'signed'; IMAGE_LINK_KEY?: Buffer | undefined; NODE_ENV: string }): Buffer | null {
  if (config.IMAGE_ACCESS === 'link') return null;
  if (config.IMAGE_LINK_KEY) return config.IMAGE_LINK_KEY;
  if (config.NODE_ENV === 'production') throw new Error('IMAGE_ACCESS=signed needs IMAGE_LINK_KEY (the same in ingest and the api): openssl rand -base64 32');
  return createHash('sha256').update('event-service development image link key').digest();
}

export const apiTokenEnv = {
  API_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
};

export { booleanVar, bytesVar, durationVar, portVar };
