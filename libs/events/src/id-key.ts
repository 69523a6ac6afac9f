/**
 * The key under which an identifier is compared, indexed and stored.
 *
 * Ids (events, cameras, agents, profiles, profile groups, endpoints,
 * filters, images) are UUIDs, and UUIDs compare case-insensitively: every
 * comparison, map or set key, subject, message id and stored column holding
 * one uses its key, the lower-case spelling. The event JSON integrators
 * receive is never rewritten for it: it keeps the agent's spelling.
 */
export function idKey(id: string): string {
  return id.toLowerCase();
}
