import { setTimeout as sleep } from 'node:timers/promises';
import { SIMULATED_TYPES, type ProfileUpsert, type Simulation, type SimulatedType } from './simulation.js';

/** Where a simulation sends: agents' events and the platform's profile lifecycle (NATS or HTTP, sinks.ts). */
export interface SimulationSink {
  /** Resolves once the change is stored (a JetStream ack, or the API's answer). */
  profile(change: { upserted: ProfileUpsert } | { deleted: { id: string } }): Promise<void>;
  /** Resolves once the event is accepted; the event's id is its `event.id`. */
  event(agentId: string, body: string, eventId: string): Promise<void>;
  close(): Promise<void>;
}

export interface SimulationTally {
  events: number;
  byType: Record<SimulatedType, number>;
  /** Identifications by how many candidates they name. */
  candidates: Record<number, number>;
  profilesAnnounced: number;
  profilesDeleted: number;
  /** Identifications sent after their only profile was deleted: profile-sync stores each as a lost event. */
  lostExpected: number;
}

export interface RunOptions {
  events: number;
  /** Events per second; null: as fast as the sink takes them. */
  ratePerSecond: number | null;
  /** Announce the catalogue first (upserts); false when an earlier run of the same seed did. */
  announce?: boolean;
  /** Called after each send; `eventId` for an event. */
  onSent?: (tally: SimulationTally, message: { kind: 'event'; eventId: string } | { kind: 'profile-deleted'; id: string }) => void;
  /** Events sent at once at most (their acknowledgements awaited together). */
  window?: number;
  signal?: AbortSignal;
}

export const emptyTally = (): SimulationTally => ({
  events: 0,
  byType: Object.fromEntries(SIMULATED_TYPES.map((type) => [type, 0])) as Record<SimulatedType, number>,
  candidates: {},
  profilesAnnounced: 0,
  profilesDeleted: 0,
  lostExpected: 0,
});

/**
 * Announces the catalogue, then sends `events` events at the rate asked,
 * with the deletions the simulation makes. A deletion waits for every event
 * in flight and is stored before the next event is sent, so the event it
 * makes lost is stored after it (docs/profiles.md: ordering).
 */
export async function runSimulation(simulation: Simulation, sink: SimulationSink, options: RunOptions): Promise<SimulationTally> {
  const tally = emptyTally();
  const window = options.window ?? 64;
  if (options.announce ?? true) {
    for (const profile of simulation.profiles) {
      await sink.profile({ upserted: profile });
      tally.profilesAnnounced += 1;
    }
  }
  const inFlight = new Set<Promise<void>>();
  // The first send that failed ends the run (after what is in flight), with its error.
  let failure: { error: unknown } | null = null;
  const drain = async () => {
    await Promise.all(inFlight);
    if (failure) throw failure.error;
  };
  const started = performance.now();
  while (tally.events < options.events && !options.signal?.aborted) {
    const message = simulation.next();
    if (message.kind === 'profile-deleted') {
      await drain();
      await sink.profile({ deleted: { id: message.id } });
      tally.profilesDeleted += 1;
      options.onSent?.(tally, message);
      continue;
    }
    if (options.ratePerSecond) {
      const due = started + (tally.events * 1_000) / options.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    while (inFlight.size >= window) await Promise.race(inFlight);
    const eventId = (message.event.event as { id: string }).id;
    if (failure) await drain();
    const sent: Promise<void> = sink
      .event(message.agentId, JSON.stringify(message.event), eventId)
      .catch((error: unknown) => void (failure ??= { error }))
      .finally(() => inFlight.delete(sent));
    inFlight.add(sent);
    tally.events += 1;
    tally.byType[message.type] += 1;
    if (message.type === 'identification') tally.candidates[message.candidates] = (tally.candidates[message.candidates] ?? 0) + 1;
    if (message.lost) tally.lostExpected += 1;
    options.onSent?.(tally, { kind: 'event', eventId });
  }
  await drain();
  return tally;
}
