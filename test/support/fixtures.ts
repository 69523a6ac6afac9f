import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../scripts/local-stack.js';

// From the project's root, so that the compiled copy (dist/test/support, used by bench/) finds them too.
const fixtures = join(projectRoot(), 'test', 'fixtures');

/** The seed's identification example, verbatim (its bytes, as an agent would send them). */
export const SEED_IDENTIFICATION_TEXT = readFileSync(join(fixtures, 'seed-identification.json'), 'utf8');

export type EventJson = Record<string, any>;

export function seedIdentification(): EventJson {
  return JSON.parse(SEED_IDENTIFICATION_TEXT) as EventJson;
}

/** A copy of the seed event with a fresh event id (and the given agent), so tests never collide. */
export function freshEvent(changes: { agentId?: string; type?: string; withoutLinks?: boolean } = {}): EventJson {
  const event = seedIdentification();
  event.event.id = randomUUID();
  // A camera belongs to the first agent that reports it: another agent's event names a camera of its own.
  if (changes.agentId) {
    event.camera.agent_id = changes.agentId;
    event.camera.id = cameraOf(changes.agentId);
  }
  if (changes.type) {
    event.type = changes.type;
    if (changes.type !== 'identification') delete event.candidates;
  }
  if (changes.withoutLinks) {
    delete event.event.image_link;
    delete event.event.original_image_link;
  }
  return event;
}

export interface EventSpec {
  type: string;
  cameraId: string;
  agentId: string;
  /** Each candidate's profile groups; omitted means no candidates key (or [] for an identification). */
  candidateGroups?: string[][];
}

/** An event of any type from the seed's envelope, with the given camera, agent and candidates' groups. */
export function eventOf(spec: EventSpec): EventJson {
  const event = freshEvent({ type: spec.type });
  event.camera.id = spec.cameraId;
  event.camera.agent_id = spec.agentId;
  const template = seedIdentification().candidates[0];
  if (spec.candidateGroups) {
    event.candidates = spec.candidateGroups.map((groups) => ({
      ...template,
      profile: { ...template.profile, id: randomUUID() },
      profile_groups: groups.map((id) => ({ id, color: 'orange.400' })),
    }));
  } else if (spec.type === 'identification') {
    event.candidates = [];
  }
  return event;
}

/** A camera of the agent's own (the same for every event of it), for events of an agent other than the seed's. */
export function cameraOf(agentId: string): string {
  const hex = createHash('sha256').update(`camera of ${agentId.toLowerCase()}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
