import { describe, expect, it } from '@jest/globals';
import { agentEventSchema } from '@app/events';
import { DEFAULT_SIMULATION, Simulation, type SimulatedMessage } from './simulation.js';

const run = (options: Partial<typeof DEFAULT_SIMULATION>, count: number): SimulatedMessage[] => {
  const simulation = new Simulation({ ...DEFAULT_SIMULATION, ...options });
  return Array.from({ length: count }, () => simulation.next());
};
/** What a seed fixes: the type, camera, agent and candidates of each event (not its own ids). */
const shape = (message: SimulatedMessage) =>
  message.kind === 'event' ? [message.type, (message.event.camera as { id: string }).id, ((message.event.candidates as Array<{ profile: { id: string } }>) ?? []).map((candidate) => candidate.profile.id)] : ['deleted', message.id];

describe('the agent simulator', () => {
  it('gives the same site and the same sequence for the same seed, another for another, with new event ids each run', () => {
    const [first, again, other] = [run({ seed: 5 }, 200), run({ seed: 5 }, 200), run({ seed: 6 }, 200)];
    expect(again.map(shape)).toEqual(first.map(shape));
    expect(other.map(shape)).not.toEqual(first.map(shape));
    const idsOf = (messages: SimulatedMessage[]) => messages.flatMap((message) => (message.kind === 'event' ? [(message.event.event as { id: string }).id] : []));
    expect(new Set([...idsOf(first), ...idsOf(again)]).size).toBe(400);
  });

  it('sends events agents may send, of the mix asked: identifications with 1 to 3 catalogue profiles and their watchlists', () => {
    const simulation = new Simulation({ ...DEFAULT_SIMULATION, mix: { identification: 3, roi: 1 } });
    const catalogue = new Map(simulation.profiles.map((profile) => [profile.id, profile.profile_groups]));
    const types = new Map<string, number>();
    for (let index = 0; index < 2_000; index += 1) {
      const message = simulation.next();
      if (message.kind !== 'event') throw new Error('no deletions were asked for');
      expect(agentEventSchema.safeParse(message.event).success).toBe(true);
      types.set(message.type, (types.get(message.type) ?? 0) + 1);
      if (message.type !== 'identification') continue;
      const candidates = message.event.candidates as Array<{ profile: { id: string }; profile_groups: unknown }>;
      expect(candidates.length).toBeGreaterThanOrEqual(1);
      expect(candidates.length).toBeLessThanOrEqual(3);
      for (const candidate of candidates) expect(candidate.profile_groups).toEqual(catalogue.get(candidate.profile.id));
    }
    expect([...types.keys()].sort()).toEqual(['identification', 'roi']);
    // 3 to 1, within a wide margin for 2,000 draws.
    expect(types.get('identification')! / types.get('roi')!).toBeGreaterThan(2.4);
    expect(types.get('identification')! / types.get('roi')!).toBeLessThan(3.7);
  });

  it('follows each deletion with an identification of that profile alone, and names a deleted profile in no other event', () => {
    const messages = run({ deleteEvery: 10, profiles: 50 }, 300);
    const deleted = messages.flatMap((message) => (message.kind === 'profile-deleted' ? [message.id] : []));
    expect(deleted).toHaveLength(10);
    for (const [index, message] of messages.entries()) {
      if (message.kind !== 'profile-deleted') continue;
      const next = messages[index + 1]!;
      expect(next).toMatchObject({ kind: 'event', type: 'identification', lost: true });
      expect(shape(next)[2]).toEqual([message.id]);
    }
    const others = messages.filter((message) => message.kind === 'event' && !message.lost);
    for (const message of others) for (const id of shape(message)[2] as string[]) expect(deleted).not.toContain(id);
  });
});
