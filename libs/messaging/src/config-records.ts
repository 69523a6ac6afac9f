/** The endpoint types of OMNI's API. */
export const ENDPOINT_TYPES = ['WEB_SOCKET', 'WEB_HOOK'] as const;
export type EndpointType = (typeof ENDPOINT_TYPES)[number];

/** An endpoint as the data path sees it (published by the api, PostgreSQL stays the source of truth). */
export interface EndpointRecord {
  id: string;
  name: string;
  type: EndpointType;
  meta: Record<string, unknown>;
}

export type ConfigChange =
  | { kind: 'endpoint-upserted'; endpoint: EndpointRecord }
  | { kind: 'endpoint-removed'; endpointId: string };

const ENDPOINT_KEY_PREFIX = 'endpoints.';

export function endpointKey(id: string): string {
  return `${ENDPOINT_KEY_PREFIX}${id}`;
}

export function endpointIdOfKey(key: string): string | null {
  return key.startsWith(ENDPOINT_KEY_PREFIX) ? key.slice(ENDPOINT_KEY_PREFIX.length) : null;
}
