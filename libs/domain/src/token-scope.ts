/** What a token may do: everything; post events (ingest) only; read without secrets, change nothing. */
export const TokenScope = {
  ADMIN: 'ADMIN',
  AGENT: 'AGENT',
  READ_ONLY: 'READ_ONLY',
} as const;
export type TokenScope = (typeof TokenScope)[keyof typeof TokenScope];
export const TOKEN_SCOPES: readonly TokenScope[] = Object.values(TokenScope);
