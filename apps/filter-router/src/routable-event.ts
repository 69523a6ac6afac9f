/** The parts of an event that filters look at. */
export interface RoutableEvent {
  type: string;
  cameraId: string;
  agentId: string;
  /** Every profile group of every candidate, as delivered. Empty when the event has no candidates. */
  profileGroupIds: string[];
}

interface EventShape {
  type?: unknown;
  camera?: { id?: unknown; agent_id?: unknown };
  candidates?: Array<{ profile_groups?: Array<{ id?: unknown }> }>;
}

/** Reads the routing fields of a validated event's JSON; null if they are not there. */
export function readRoutableEvent(body: Uint8Array): RoutableEvent | null {
  let event: EventShape;
  try {
    event = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as EventShape;
  } catch {
    return null;
  }
  const { type, camera } = event;
  if (typeof type !== 'string' || typeof camera?.id !== 'string' || typeof camera.agent_id !== 'string') return null;
  const groups = new Set<string>();
  for (const candidate of Array.isArray(event.candidates) ? event.candidates : []) {
    for (const group of Array.isArray(candidate?.profile_groups) ? candidate.profile_groups : []) {
      if (typeof group?.id === 'string') groups.add(group.id);
    }
  }
  return { type, cameraId: camera.id, agentId: camera.agent_id, profileGroupIds: [...groups] };
}
