import type { EndpointView, FilterRecord } from '@app/domain';

export {
  ENDPOINT_TYPES,
  EndpointType,
  TOKEN_SCOPES,
  TokenScope,
  type ConnectionTokenRecord,
  type EndpointRecord,
  type EndpointView,
  type FilterRecord,
  type SecretsRecord,
  type TokenRecord,
  type WebhookMeta,
  type WebhookView,
  type WebSocketAccess,
  type WebSocketMeta,
} from '@app/domain';

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
