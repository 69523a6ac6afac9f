export { parseBytes, parseDuration } from './duration.js';
export { ConfigError, loadConfig } from './load-config.js';
export { type NatsEnv, type PartitionsEnv, partitionsEnv, apiTokenEnv, deletedProfilesEnv, imageLinkEnv, listenHost, resolveImageLinkKey, booleanVar, bytesVar, databaseEnv, databaseSettingsOf, durationVar, natsEnv, portVar, publicUrlEnv, runtimeEnv } from './fragments.js';
export { resolveApiToken, type ResolvedToken } from './api-token.js';
