import type { AgentEvent } from './event.schema.js';

/** The parts of an event that event filters look at. */
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
    for (const group of candidate.profile_groups) groups.add(group.id);
  }
  return { type: event.type, cameraId: event.camera.id, agentId: event.camera.agent_id, profileGroupIds: [...groups] };
}
