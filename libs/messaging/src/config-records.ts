import { EndpointType, TokenScope, type EndpointState, type ManualState, type TypedMeta } from '@app/domain';

export { ENDPOINT_TYPES, EndpointType, TOKEN_SCOPES, TokenScope, type WebhookMeta, type WebSocketAccess, type WebSocketMeta } from '@app/domain';

/** What every endpoint record has, whatever its type. */
interface EndpointFields {
  id: string;
  name: string;
  /** The api's part of the state: active, or paused by hand. */
  state: ManualState;
  /** Incremented by each resume by hand: the dispatcher's health from before it no longer counts. */
  resumeGeneration: number;
  /** The row's version in PostgreSQL: the bucket's copy is replaced only by a higher one. */
  version: number;
}

/** An endpoint as the api publishes it (PostgreSQL stays the source of truth): its meta is its type's. */
export type EndpointRecord = EndpointFields & TypedMeta;

/** An endpoint as the data path acts on it: the api's record with the state both owners' records make. */
export type EndpointView = Omit<EndpointFields, 'state'> & { state: EndpointState } & TypedMeta;

/** A webhook endpoint as the data path acts on it. */
export type WebhookView = EndpointView & { type: typeof EndpointType.WEB_HOOK };

/** An event filter as the data path sees it; an empty condition does not restrict. */
export interface FilterRecord {
  id: string;
  endpointIds: string[];
  cameraIds: string[];
  agentIds: string[];
  profileGroupIds: string[];
  eventTypes: string[];
  version: number;
}

/** A webhook's signing secrets and custom headers, sealed with SECRET_KEYS (as PostgreSQL holds them); the endpoint row's version. */
export interface SecretsRecord {
  version: number;
  sealed: string;
}

/**
 * A named API token as the apps that check tokens see it: the SHA-256 of the
 * token (never the token), its scope and, for an agent token, the agent ids
 * it may post for (empty: any). A revoked token has no record.
 */
export interface TokenRecord {
  id: string;
  hash: string;
  scope: TokenScope;
  agentIds: string[];
  version: number;
}

/**
 * A websocket endpoint's own connection token as the gateway checks it: its
 * SHA-256 (`connections.<endpoint id>` in the tokens bucket; the endpoint's
 * record in the config bucket does not carry it), with the endpoint row's version.
 */
export interface ConnectionTokenRecord {
  endpointId: string;
  hash: string;
  version: number;
}

/** An endpoint record of an older api, which carried its connection token's hash: it is published again without it. */
export function carriesConnectionToken(meta: object | undefined): boolean {
  return meta !== undefined && 'tokenHash' in meta && meta.tokenHash !== undefined;
}

/**
 * The version a published value carries; -1 for a value that cannot be read,
 * or one of an older format (an endpoint record carrying its connection
 * token's hash), which any real version replaces.
 */
export function versionOfValue(value: string): number {
  try {
    const { version, meta } = JSON.parse(value) as { version?: unknown; meta?: Record<string, unknown> };
    if (carriesConnectionToken(meta)) return -1;
    return typeof version === 'number' ? version : -1;
  } catch {
    return -1;
  }
}

export type ConfigChange =
  | { kind: 'endpoint-upserted'; endpoint: EndpointView }
  | { kind: 'endpoint-removed'; endpointId: string }
  | { kind: 'filter-upserted'; filter: FilterRecord }
  | { kind: 'filter-removed'; filterId: string };

/**
 * Keys of the config buckets (bucketOfKey says which). The config bucket:
 * `endpoints.<id>`, `filters.<id>`, written by the api; `health.<endpoint
 * id>`, written by the dispatcher alone; `published`, written by the api
 * once it has published the whole config (before it, a data-path view does
 * not know whether "no endpoints" is true). The secrets bucket:
 * `secrets.<endpoint id>` (a webhook's signing secrets and custom headers,
 * sealed with SECRET_KEYS), and `published`. The tokens bucket: `tokens.<id>`,
 * the named API tokens that are not revoked, and `connections.<endpoint
 * id>`, a websocket endpoint's own token (TokenView).
 */
export const ConfigKeys = {
  published: 'published',
  endpoint: (id: string) => `endpoints.${id}`,
  filter: (id: string) => `filters.${id}`,
  secrets: (endpointId: string) => `secrets.${endpointId}`,
  health: (endpointId: string) => `health.${endpointId}`,
  token: (id: string) => `tokens.${id}`,
  connectionToken: (endpointId: string) => `connections.${endpointId}`,
  /** Splits a key into its kind and id, or null for a key this version does not know. */
  parse(key: string): { kind: 'endpoint' | 'filter' | 'secrets' | 'health' | 'token' | 'connection-token'; id: string } | null {
    const dot = key.indexOf('.');
    const id = key.slice(dot + 1);
    if (key.startsWith('endpoints.')) return { kind: 'endpoint', id };
    if (key.startsWith('filters.')) return { kind: 'filter', id };
    if (key.startsWith('secrets.')) return { kind: 'secrets', id };
    if (key.startsWith('health.')) return { kind: 'health', id };
    if (key.startsWith('tokens.')) return { kind: 'token', id };
    if (key.startsWith('connections.')) return { kind: 'connection-token', id };
    return null;
  },
};
