/** Injection token of the validated api config. */
export const API_CONFIG = Symbol('api-config');
/** Injection token of the TokenSet clients authenticate against. */
export const API_TOKENS = Symbol('api-tokens');
