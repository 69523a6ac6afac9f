import { randomUUID } from 'node:crypto';
import { SeededRandom } from './random.js';

/** OMNI's event types (the seed's), as agents send them. */
export const SIMULATED_TYPES = ['identification', 'non_identification', 'har', 'roi', 'crossing', 'face_hide_control'] as const;
export type SimulatedType = (typeof SIMULATED_TYPES)[number];

/** A mix seen on a busy site: mostly identifications, a quarter unknown faces, the analytics types now and then. */
export const DEFAULT_MIX: Readonly<Record<SimulatedType, number>> = { identification: 60, non_identification: 25, har: 5, roi: 4, crossing: 4, face_hide_control: 2 };

export interface SimulationOptions {
  /** The same seed, the same run: agents, cameras, profiles, and the events' types, cameras and candidates (event ids are new each run). */
  seed: number;
  agents: number;
  camerasPerAgent: number;
  /** Profiles in the platform's catalogue, announced through the lifecycle before the first event. */
  profiles: number;
  /** Watchlists (profile groups); each profile is on one or two. */
  watchlists: number;
  /** Relative weights of the event types. */
  mix: Readonly<Partial<Record<SimulatedType, number>>>;
  /** Attach a small face image (and frame) to events, for ingest to store. */
  images: boolean;
  /**
   * Every this many events, a profile is deleted and the next event is an
   * identification of it alone, which profile-sync then loses
   * (ALL_CANDIDATES_DELETED); 0: no deletions. The profiles deleted are a
   * fifth of the catalogue kept out of every other event, so that an event
   * still on its way through ingest when its profile goes cannot be lost too:
   * each deletion loses exactly one event, and there are no more deletions
   * once they are used up (none with a catalogue of one profile).
   */
  deleteEvery: number;
}

export const DEFAULT_SIMULATION: SimulationOptions = {
  seed: 1,
  agents: 4,
  camerasPerAgent: 3,
  profiles: 200,
  watchlists: 5,
  mix: DEFAULT_MIX,
  images: false,
  deleteEvery: 0,
};

export interface SimulatedAgent {
  id: string;
  cameras: Array<{ id: string; title: string }>;
}

export interface ProfileUpsert {
  id: string;
  profile_groups: Array<{ id: string; color: string }>;
}

/** What a simulation sends next: an agent's event, or the platform's deletion of a profile. */
export type SimulatedMessage =
  | { kind: 'event'; agentId: string; type: SimulatedType; candidates: number; lost: boolean; event: Record<string, unknown> }
  | { kind: 'profile-deleted'; id: string };

const COLORS = ['orange.400', 'red.500', 'blue.300', 'green.400', 'purple.500', 'teal.300'];
const DETAILS: Partial<Record<SimulatedType, [field: string, values: string[]]>> = {
  har: ['action', ['fall', 'sit', 'lie', 'fight']],
  roi: ['direction', ['in', 'out']],
  crossing: ['direction', ['forward', 'reverse']],
  face_hide_control: ['status', ['hidden_or_low_quality', 'identification', 'non_identification']],
};

/**
 * Agents with cameras, the platform's profile catalogue with watchlists, and
 * a stream of events in a chosen mix: identifications of 1–3 catalogue
 * profiles, the other OMNI types, optional images, and profile deletions
 * that make lost events. Deterministic from its seed but for the events' own
 * ids; sends nothing itself (runSimulation does, over NATS or HTTP).
 */
export class Simulation {
  readonly agents: SimulatedAgent[];
  readonly watchlists: Array<{ id: string; color: string }>;
  readonly profiles: ProfileUpsert[];
  private readonly random: SeededRandom;
  /** The profiles other events name; the doomed, set aside for deletions, are named by the event each deletion loses only. */
  private readonly named: ProfileUpsert[];
  private readonly doomed: ProfileUpsert[];
  private readonly weights: Record<SimulatedType, number>;
  private sent = 0;
  private pendingLoss: ProfileUpsert | null = null;

  constructor(readonly options: SimulationOptions) {
    this.weights = Object.fromEntries(SIMULATED_TYPES.map((type) => [type, options.mix[type] ?? 0])) as Record<SimulatedType, number>;
    if (Object.values(this.weights).every((weight) => weight <= 0)) throw new Error('the mix gives every event type a weight of 0');
    this.random = new SeededRandom(options.seed);
    const random = this.random;
    this.agents = Array.from({ length: options.agents }, (_, agent) => ({
      id: random.uuid(),
      cameras: Array.from({ length: options.camerasPerAgent }, (_, camera) => ({ id: random.uuid(), title: `rtsp://10.0.${agent}.${camera + 10}/stream` })),
    }));
    this.watchlists = Array.from({ length: options.watchlists }, (_, index) => ({ id: random.uuid(), color: COLORS[index % COLORS.length]! }));
    this.profiles = Array.from({ length: options.profiles }, () => ({
      id: random.uuid(),
      profile_groups: random.sample(this.watchlists, random.int(1, Math.min(2, this.watchlists.length))),
    }));
    // A catalogue of one profile has none to spare: it makes no deletions, so that every identification names one.
    const set = options.deleteEvery > 0 && this.profiles.length > 1 ? Math.max(1, Math.floor(this.profiles.length / 5)) : 0;
    this.doomed = this.profiles.slice(0, set);
    this.named = this.profiles.slice(set);
  }

  /** The next message: an event, or (every `deleteEvery` events) a profile's deletion, followed by an event that it loses. */
  next(): SimulatedMessage {
    const { deleteEvery } = this.options;
    if (deleteEvery > 0 && this.sent > 0 && this.sent % deleteEvery === 0 && !this.pendingLoss && this.doomed.length > 0) {
      const deleted = this.doomed.shift()!;
      this.pendingLoss = deleted;
      return { kind: 'profile-deleted', id: deleted.id };
    }
    this.sent += 1;
    if (this.pendingLoss) {
      const lost = this.pendingLoss;
      this.pendingLoss = null;
      return this.event('identification', [lost], true);
    }
    const type = this.random.weighted(this.weights);
    const candidates = type === 'identification' ? this.random.sample(this.named, this.random.int(1, 3)) : [];
    return this.event(type, candidates, false);
  }

  private event(type: SimulatedType, candidates: ProfileUpsert[], lost: boolean): SimulatedMessage {
    const random = this.random;
    const agent = random.pick(this.agents);
    const camera = random.pick(agent.cameras);
    // New ids each run: ingest would take a second run's events, within its duplicate window, for re-sends of the first's.
    const details: Record<string, unknown> = { id: randomUUID(), detection_date: detectionDate(new Date()) };
    if (!this.options.images) Object.assign(details, { image: null, original_image: null });
    const detail = DETAILS[type];
    if (detail) details[detail[0]] = random.pick(detail[1]);
    const event: Record<string, unknown> = {
      type,
      activity_id: randomUUID(),
      camera: { id: camera.id, type: 'IP', title: camera.title, stream: camera.title, real_name: null, agent_id: agent.id },
      ...(type === 'identification'
        ? {
            candidates: candidates.map((profile) => ({
              profile: { id: profile.id, age: random.int(18, 80), gender: random.pick(['MALE', 'FEMALE']), avatar_id: null, main_sample_id: null, sample_link: null },
              profile_groups: profile.profile_groups,
              confidence: Math.round((0.6 + random.next() * 0.39) * 1e6) / 1e6,
            })),
          }
        : {}),
      event: details,
    };
    if (this.options.images) {
      // A few kilobytes stand in for a face crop and its frame: ingest stores them and fills the links.
      event.images = {
        image: { content_type: 'image/jpeg', data: Buffer.from(random.bytes(random.int(2_000, 6_000))).toString('base64') },
        original_image: { content_type: 'image/jpeg', data: Buffer.from(random.bytes(random.int(20_000, 40_000))).toString('base64') },
      };
    }
    return { kind: 'event', agentId: agent.id, type, candidates: candidates.length, lost, event };
  }
}

/** `2024-05-29 10:48:27.364000+00:00`, as agents write it. */
export function detectionDate(at: Date): string {
  return `${at.toISOString().replace('T', ' ').replace('Z', '')}000+00:00`;
}

/**
 * `count` events of a simulated site (no deletions, so every event is
 * delivered), as the bytes an agent sends, with the agent whose subject
 * carries each: the load the benchmarks and the chaos suite drive.
 */
export function simulatedEvents(count: number, options: Partial<SimulationOptions> = {}): Array<{ id: string; agentId: string; data: Uint8Array }> {
  const simulation = new Simulation({ ...DEFAULT_SIMULATION, ...options, deleteEvery: 0 });
  const encoder = new TextEncoder();
  return Array.from({ length: count }, () => {
    const message = simulation.next();
    if (message.kind !== 'event') throw new Error('a simulation without deletions sends events only');
    return { id: (message.event.event as { id: string }).id, agentId: message.agentId, data: encoder.encode(JSON.stringify(message.event)) };
  });
}
