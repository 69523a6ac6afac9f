import type { EndpointState } from './delivery-change.js';

/** The endpoint types of OMNI's API. */
export const ENDPOINT_TYPES = ['WEB_SOCKET', 'WEB_HOOK'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

/** An endpoint as the data path sees it (published by the api, PostgreSQL stays the source of truth). */
export interface EndpointRecord {
  id: string;
  name: string;
  type: EndpointType;
  meta: Record<string, unknown>;
  state: EndpointState;
}

/** An event filter as the data path sees it; an empty condition does not restrict. */
export interface FilterRecord {
  id: string;
  endpointIds: string[];
  cameraIds: string[];
  agentIds: string[];
  profileGroupIds: string[];
  eventTypes: string[];
}

export type ConfigChange =
  | { kind: 'endpoint-upserted'; endpoint: EndpointRecord }
  | { kind: 'endpoint-removed'; endpointId: string }
  | { kind: 'filter-upserted'; filter: FilterRecord }
  | { kind: 'filter-removed'; filterId: string };

/**
 * Keys of the config bucket: `endpoints.<id>`, `filters.<id>`, and
 * `secrets.<endpoint id>`: a webhook's signing secrets and custom headers,
 * sealed with CONFIG_SECRET_KEY (only the api and the dispatcher hold it).
 */
export const ConfigKeys = {
  endpoint: (id: string) => `endpoints.${id}`,
  filter: (id: string) => `filters.${id}`,
  secrets: (endpointId: string) => `secrets.${endpointId}`,
  /** Splits a key into its kind and id, or null for a key this version does not know. */
  parse(key: string): { kind: 'endpoint' | 'filter' | 'secrets'; id: string } | null {
    const dot = key.indexOf('.');
    const id = key.slice(dot + 1);
    if (key.startsWith('endpoints.')) return { kind: 'endpoint', id };
    if (key.startsWith('filters.')) return { kind: 'filter', id };
    if (key.startsWith('secrets.')) return { kind: 'secrets', id };
    return null;
  },
};
