export { agentEventSchema, EVENT_TYPES, type AgentEvent, type Candidate, type EventType } from './event.schema.js';
export { decodeEvent, eventIdKeyOf, validateEvent, type DecodeResult, type EventRejection } from './event-codec.js';
export { fillImageLinks, IMAGE_PATH, imageLink, verifyImageLink, type LinkSigning } from './image-links.js';
export { routingFieldsOf, type RoutingFields } from './routing-fields.js';
export { profileDeletedSchema, profileUpsertedSchema, type ProfileDeleted, type ProfileGroup, type ProfileUpserted } from './profile.schema.js';
export { checkProfiles, type CheckResult, type ProfileState } from './check-profiles.js';
export { eventImagesSchema, IMAGE_CONTENT_TYPES, type EventImages } from './event-images.js';
export { eventMessageId, idKey } from './id-key.js';
export { firstIssue, jsonTypeOf, schemaMessages, wrongTypeMessage } from './schema-messages.js';
