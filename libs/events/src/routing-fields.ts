import type { AgentEvent } from './event.schema.js';
import { idKey } from './id-key.js';

/** The parts of an event that event filters look at; ids as their keys (idKey), whatever case the agent wrote. */
export interface RoutingFields {
  type: string;
  cameraId: string;
  agentId: string;
  /** Every profile group of every candidate, as delivered, each once. Empty when there are no candidates. */
  profileGroupIds: string[];
}

export function routingFieldsOf(event: AgentEvent): RoutingFields {
  const groups = new Set<string>();
  for (const candidate of 'candidates' in event && event.candidates ? event.candidates : []) {
    for (const group of candidate.profile_groups) groups.add(idKey(group.id));
  }
  return { type: event.type, cameraId: idKey(event.camera.id), agentId: idKey(event.camera.agent_id), profileGroupIds: [...groups] };
}
