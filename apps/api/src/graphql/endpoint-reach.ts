import type { Request } from 'express';

/**
 * The endpoints a request's token may read: null for every one (an ADMIN or
 * unscoped READ_ONLY token), else the ids its READ_ONLY token is scoped to.
 * What a scoped token lists (endpoints, the filters naming them, their
 * deliveries) is narrowed to these; what belongs to no endpoint is refused
 * (TokenGuard, @WholeInstallation).
 */
export function reachOf(request: Request): readonly string[] | null {
  return request.principal?.endpointIds ?? null;
}

/** The ids a list asks for (null: any) narrowed to a reach (null: every endpoint); an empty answer lists nothing. */
export function withinReach(asked: string[] | null, reach: readonly string[] | null): string[] | null {
  if (reach === null) return asked;
  return asked === null ? [...reach] : asked.filter((id) => reach.includes(id));
}
