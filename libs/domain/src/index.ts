/**
 * The service's own words, below every other library: endpoint types and
 * states, token scopes, delivery outcomes. Messaging and persistence both
 * depend on this library, never on each other.
 */
export { DeliveryOutcome } from './delivery-outcome.js';
export { effectiveState, EndpointState, type EndpointHealth, type HealthState, type ManualState } from './endpoint-state.js';
export { ENDPOINT_TYPES, EndpointType } from './endpoint-type.js';
export { TOKEN_SCOPES, TokenScope } from './token-scope.js';
export { connectionTokenHashOf, isMetaOf, publishedMeta, storedMeta, type StoredTypedMeta, type TypedMeta, type WebhookMeta, type WebSocketAccess, type WebSocketMeta, type WebSocketStoredMeta } from './endpoint-meta.js';
