import { describe, expect, it } from '@jest/globals';
import { checkProfiles, type ProfileState } from './check-profiles.js';
import type { AgentEvent } from './event.schema.js';

const GONE = 'd96fb010-8da5-49a6-b571-b48cb241a923';
const LIVE = '5e46d1d7-ca5b-4804-9c7e-6022f5a561b7';
const candidate = (profileId: string) => ({ profile: { id: profileId, age: 30 }, profile_groups: [{ id: '82e7d0c3-6e69-425b-ab79-faa19c2d9fe7', color: null }], confidence: 0.9 });
const eventWith = (...profileIds: string[]) =>
  ({
    type: 'identification',
    activity_id: '69410e11-d3f6-449c-927f-cea210f0e326',
    camera: { id: '72aa3a70-0fc1-46f1-8a8e-eb50cd4f13a3', type: 'IP', title: null, stream: null, real_name: null, agent_id: 'a593c1be-d13e-4244-8179-1df0a6b725f7' },
    candidates: profileIds.map(candidate),
    event: { id: 'b4c32a55-685e-4055-9716-aeda8c892c84', detection_date: '2024-05-29 10:48:27.364000+00:00' },
  }) as unknown as AgentEvent;
// A registry keyed as profile-sync's is: by the ids' keys.
const registry = new Map<string, ProfileState>([
  [GONE, { deleted: true }],
  [LIVE, { deleted: false, groups: [{ id: '82e7d0c3-6e69-425b-ab79-faa19c2d9fe7', color: null }] }],
]);
const stateOf = (id: string) => registry.get(id);

describe('checkProfiles', () => {
  it('finds a profile whatever case the candidate spells its id in', () => {
    const result = checkProfiles(eventWith(GONE.toUpperCase(), LIVE.toUpperCase()), stateOf);

    expect(result.kind).toBe('deliver');
    expect(result.event.candidates!.map((kept) => kept.profile.id)).toEqual([LIVE.toUpperCase()]);
  });

  it('gives a lost event as it would have been delivered: without its candidates, in the agent key order', () => {
    const event = eventWith(GONE.toUpperCase());

    const result = checkProfiles(event, stateOf);

    expect(result).toMatchObject({ kind: 'lost', deletedProfileIds: [GONE] });
    expect(result.event.candidates).toEqual([]);
    expect(Object.keys(result.event)).toEqual(Object.keys(event));
    expect(event.candidates).toHaveLength(1);
  });
});
