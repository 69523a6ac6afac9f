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

/**
 * The message id that de-duplicates an event in the events and routable
 * streams: its agent's key and its own. The event id is the agent's to
 * choose, so one agent re-using another's id stores an event of its own
 * rather than suppressing the other's.
 */
export function eventMessageId(agentId: string, eventId: string): string {
  return `${idKey(agentId)}:${idKey(eventId)}`;
}
