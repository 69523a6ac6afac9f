import { EndpointType } from './endpoint-type.js';

/** What a webhook endpoint is configured with, besides its secrets (sealed apart). */
export interface WebhookMeta {
  url: string;
  /** POST unless set. */
  method?: string;
  /** The names of its custom headers (their values are sealed with the secrets). */
  headerNames?: string[];
  /** At most this many deliveries a second (per dispatcher replica); none: no limit. */
  maxRatePerSecond?: number;
}

/**
 * Who may connect to a websocket endpoint (none: anyone with its id). Its
 * own connection token's SHA-256 is WebSocketStoredMeta's `tokenHash` in
 * PostgreSQL, and a record of its own in the tokens bucket.
 */
export interface WebSocketAccess {
  requireToken: boolean;
  /** Browser origins allowed (lower case); empty: any. */
  allowedOrigins: string[];
  /** Connections per gateway replica; null: no cap. */
  maxConnections: number | null;
}

/** What a websocket endpoint is configured with, as the data path sees it. */
export interface WebSocketMeta {
  access?: WebSocketAccess;
}

/** A websocket endpoint's meta in PostgreSQL: with its own connection token's hash, which never leaves the api but for the tokens bucket. */
export interface WebSocketStoredMeta extends WebSocketMeta {
  tokenHash?: string;
}

/** An endpoint's type with the meta that goes with it. */
export type TypedMeta = { type: typeof EndpointType.WEB_HOOK; meta: WebhookMeta } | { type: typeof EndpointType.WEB_SOCKET; meta: WebSocketMeta };

/** A stored endpoint's type with its meta (PostgreSQL keeps them in two columns). */
export type StoredTypedMeta = { type: typeof EndpointType.WEB_HOOK; meta: WebhookMeta } | { type: typeof EndpointType.WEB_SOCKET; meta: WebSocketStoredMeta };

/** A stored endpoint's type and meta, typed together: the api writes a meta of the endpoint's type only. */
export function storedMeta(endpoint: { type: EndpointType; meta: WebhookMeta | WebSocketStoredMeta }): StoredTypedMeta {
  return { type: endpoint.type, meta: endpoint.meta } as StoredTypedMeta;
}

/** A stored websocket endpoint's own connection token's hash, if it has one. */
export function connectionTokenHashOf(endpoint: { type: EndpointType; meta: WebhookMeta | WebSocketStoredMeta }): string | null {
  const typed = storedMeta(endpoint);
  return typed.type === EndpointType.WEB_SOCKET && typeof typed.meta.tokenHash === 'string' ? typed.meta.tokenHash : null;
}

/** The type and meta the config bucket carries: a websocket's without its connection token's hash (the tokens bucket carries that). */
export function publishedMeta(endpoint: { type: EndpointType; meta: WebhookMeta | WebSocketStoredMeta }): TypedMeta {
  const typed = storedMeta(endpoint);
  if (typed.type === EndpointType.WEB_HOOK) return typed;
  const { tokenHash: _connectionToken, ...meta } = typed.meta;
  return { type: typed.type, meta };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isOptional = (value: unknown, check: (value: unknown) => boolean): boolean => value === undefined || check(value);

function isAccess(value: unknown): value is WebSocketAccess {
  return (
    isObject(value) &&
    typeof value.requireToken === 'boolean' &&
    Array.isArray(value.allowedOrigins) &&
    value.allowedOrigins.every((origin) => typeof origin === 'string') &&
    (value.maxConnections === null || typeof value.maxConnections === 'number')
  );
}

/** Whether `meta` is what an endpoint of `type` carries (a record read from the config bucket is checked before it is used). */
export function isMetaOf(type: EndpointType, meta: unknown): boolean {
  if (!isObject(meta)) return false;
  if (type === EndpointType.WEB_SOCKET) return isOptional(meta.access, isAccess);
  return (
    typeof meta.url === 'string' &&
    isOptional(meta.method, (method) => typeof method === 'string') &&
    isOptional(meta.headerNames, (names) => Array.isArray(names) && names.every((name) => typeof name === 'string')) &&
    isOptional(meta.maxRatePerSecond, (rate) => typeof rate === 'number')
  );
}
