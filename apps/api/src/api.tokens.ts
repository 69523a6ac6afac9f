/** Injection token of the validated api config. */
export const API_CONFIG = Symbol('api-config');
/** Injection token of the AccessTokens clients authenticate with (API_TOKEN and the named tokens). */
export const API_TOKENS = Symbol('api-tokens');
