/**
 * The service's own words, below every other library: endpoints (types,
 * states, typed meta), filters and tokens as the configuration carries them,
 * token scopes, and a webhook delivery's changes and outcomes. Messaging and persistence both
 * depend on this library, never on each other.
 */
export { DeliveryOutcome } from './delivery-outcome.js';
export { effectiveState, EndpointState, type EndpointHealth, type HealthState, type ManualState } from './endpoint-state.js';
export { ENDPOINT_TYPES, EndpointType } from './endpoint-type.js';
export { readsEndpoint, readsEverything, type Principal } from './principal.js';
export { TOKEN_SCOPES, TokenScope } from './token-scope.js';
export { connectionTokenHashOf, isMetaOf, publishedMeta, storedMeta, type StoredTypedMeta, type TypedMeta, type WebhookMeta, type WebSocketAccess, type WebSocketMeta, type WebSocketStoredMeta } from './endpoint-meta.js';
export { type ConnectionTokenRecord, type EndpointFields, type EndpointRecord, type EndpointView, type FilterRecord, type SecretsRecord, type TokenRecord, type WebhookView } from './config-records.js';
export { type AttemptLine, type DeliveryChange, type RetryChange } from './delivery-change.js';
export { DEAD_LETTER_STATES, DeadLetterState, MAX_DEAD_LETTERS_PER_COMMAND, parseDeadLetterCommand, type DeadLetterCommand, type DeadLetterCommandAnswer, type DeadLetterSelection } from './dead-letter.js';
