import type { MsgHdrs } from '@nats-io/transport-node';
import type { RoutingFields } from '@app/events';
import { Headers } from './topology.js';

/** The headers that carry an event's id and routing fields between apps. */
export function routingHeaders(eventId: string, fields: RoutingFields): Record<string, string> {
  return {
    [Headers.eventId]: eventId,
    [Headers.eventType]: fields.type,
    [Headers.cameraId]: fields.cameraId,
    [Headers.agentId]: fields.agentId,
    [Headers.profileGroups]: fields.profileGroupIds.join(','),
  };
}

/** Reads routing fields from message headers; null when a message lacks them. */
export function readRoutingHeaders(headers: MsgHdrs | undefined): RoutingFields | null {
  if (!headers) return null;
  const type = headers.get(Headers.eventType);
  const cameraId = headers.get(Headers.cameraId);
  const agentId = headers.get(Headers.agentId);
  if (!type || !cameraId || !agentId || !headers.has(Headers.profileGroups)) return null;
  const groups = headers.get(Headers.profileGroups);
  return { type, cameraId, agentId, profileGroupIds: groups ? groups.split(',') : [] };
}

/** When ingest accepted the event of a message (Headers.acceptedAt), in epoch milliseconds; null when it carries none. */
export function acceptedAtOf(headers: MsgHdrs | undefined): number | null {
  const value = Number(headers?.get(Headers.acceptedAt) || Number.NaN);
  return Number.isFinite(value) && value > 0 ? value : null;
}

/** When a re-sent delivery is due (Headers.dueAt), in epoch milliseconds; null when it carries none. */
export function dueAtOf(headers: MsgHdrs | undefined): number | null {
  const value = Number(headers?.get(Headers.dueAt) || Number.NaN);
  return Number.isFinite(value) && value > 0 ? value : null;
}
