import { TokenScope } from './token-scope.js';

/** Who presented a token: a named token's id (or `bootstrap` for API_TOKEN / AGENT_TOKENS), its scope, bound agents and endpoints. */
export interface Principal {
  tokenId: string;
  scope: TokenScope;
  /** The agents an agent token may post for; empty: any. */
  agentIds: readonly string[];
  /** The endpoints a READ_ONLY token may read; null: every one. */
  endpointIds: readonly string[] | null;
}

/** An ADMIN token, or a READ_ONLY one not scoped to endpoints: it reads what belongs to no endpoint (lost events, tokens, any image). */
export function readsEverything(principal: Principal): boolean {
  return principal.scope === TokenScope.ADMIN || (principal.scope === TokenScope.READ_ONLY && principal.endpointIds === null);
}

/** Whether a principal may read an endpoint (list it, its filters and deliveries, open its websocket): never an AGENT token. */
export function readsEndpoint(principal: Principal, endpointId: string): boolean {
  if (readsEverything(principal)) return true;
  return principal.scope === TokenScope.READ_ONLY && (principal.endpointIds?.includes(endpointId) ?? false);
}
