/** Injection token of the validated ingest config. */
export const INGEST_CONFIG = Symbol('ingest-config');
/** Injection token of the AccessTokens agents authenticate with. */
export const AGENT_TOKENS = Symbol('agent-tokens');
