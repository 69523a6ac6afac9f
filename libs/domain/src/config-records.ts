import type { EndpointType } from './endpoint-type.js';
import type { EndpointState, ManualState } from './endpoint-state.js';
import type { TypedMeta } from './endpoint-meta.js';
import type { TokenScope } from './token-scope.js';

/*
 * The configuration as the api publishes it to the data path (the config,
 * secrets and tokens buckets; PostgreSQL stays the source of truth), and as
 * the data path acts on it.
 */

/** What every endpoint record has, whatever its type. */
export interface EndpointFields {
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
 * token (never the token), its scope, for an agent token the agent ids it may
 * post for (empty: any), and for a READ_ONLY token the endpoints it may read
 * (null or absent: every one). A revoked token has no record.
 */
export interface TokenRecord {
  id: string;
  hash: string;
  scope: TokenScope;
  agentIds: string[];
  endpointIds?: string[] | null;
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
