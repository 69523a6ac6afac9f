import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { NatsClient } from './nats-connection.js';
import { replicasOf } from './replicas.js';
import type { Topology } from './topology.js';

const DEAD_LETTER_MAX_AGE_MS = 30 * 86_400_000;
/** nats-server's least duplicate window (it refuses less than 100 ms). */
const INGRESS_DUPLICATE_WINDOW_MS = 100;

/**
 * The streams of the data path, as the apps declare them (each app the ones
 * it uses: streamsOfApp). Each holds at most STREAM_MAX_BYTES and
 * STREAM_MAX_AGE: when full it refuses new messages (publishers get an
 * error: ingest answers 503, consumers wait and retry) rather than
 * discarding its oldest, perhaps undelivered, ones; the StreamTrimmer
 * removes history every consumer has read before it comes to that. The dead
 * letters are the end of the line: when full, their oldest go.
 */
export function streamConfigs(client: Pick<NatsClient, 'topology' | 'settings'>): Array<Partial<StreamConfig> & { name: string }> {
  const { topology, settings } = client;
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_bytes: settings.streamMaxBytes ?? -1,
    max_age: nanos(settings.streamMaxAgeMs),
    duplicate_window: nanos(Math.min(settings.duplicateWindowMs, settings.streamMaxAgeMs)),
    // Updated on an existing stream too (ensureStreams): raising NATS_REPLICAS on a cluster adds copies.
    num_replicas: replicasOf(settings),
  };
  return [
    {
      ...common,
      name: topology.streams.ingress,
      subjects: [topology.allAgentEvents],
      description: 'Events as agents published them, until ingest has read them',
      // Each agent's subject holds at most its share of unread events (the ingress keeps no history: StreamTrimmer);
      // beyond it that agent's publishes are refused, and the others' go on.
      max_msgs_per_subject: settings.ingressMaxPerAgent ?? -1,
      discard_new_per_subject: settings.ingressMaxPerAgent !== undefined,
      // The least the server allows: an agent's Nats-Msg-Id is its own to choose, and would otherwise suppress another
      // agent's message with the same id for the whole window. Ingest de-duplicates by agent and event id instead.
      duplicate_window: nanos(INGRESS_DUPLICATE_WINDOW_MS),
    },
    { ...common, name: topology.streams.events, subjects: [topology.allEvents], description: 'Validated events and the profile lifecycle' },
    { ...common, name: topology.streams.routable, subjects: [topology.routableEvents], description: 'Events past profile-sync' },
    { ...common, name: topology.streams.deliveries, subjects: [topology.allDeliveries], description: 'One message per endpoint and event' },
    {
      ...common,
      name: topology.streams.attempts,
      subjects: [topology.deliveryChanges],
      description: "webhook-dispatcher's delivery changes, until projected into PostgreSQL",
    },
    {
      ...common,
      discard: DiscardPolicy.Old,
      max_bytes: settings.deadLetterMaxBytes ?? -1,
      max_age: nanos(deadLetterMaxAgeMs(settings)),
      name: topology.streams.deadLetters,
      subjects: [topology.allDeadLetters],
      description: 'Messages that can never succeed, with their reason',
    },
  ];
}

/** How long the dead-letter stream keeps a record: 30 days, or STREAM_MAX_AGE when longer (its projection is pruned after as long). */
export function deadLetterMaxAgeMs(settings: Pick<NatsClient['settings'], 'streamMaxAgeMs'>): number {
  return Math.max(DEAD_LETTER_MAX_AGE_MS, settings.streamMaxAgeMs);
}

/**
 * The streams that refuse when full, and whose read history the
 * StreamTrimmer of the app running their reader removes, each with the
 * durable consumers that must read a message before it may go (the apps'
 * consumer specs name the same ones):
 * a stream is not trimmed while one of them does not exist yet (a first
 * start, a consumer being re-created), since nothing would show that it has
 * not read what is there.
 */
export function trimmedStreams(client: NatsClient): Array<{ stream: string; readers: string[]; keepsHistory: boolean; subjects: string }> {
  const { streams } = client.topology;
  const { topology } = client;
  return [
    // What ingest has read is in the events stream: each agent's share of the ingress counts what ingest has not read.
    { stream: streams.ingress, readers: ['ingest'], keepsHistory: false, subjects: topology.allAgentEvents },
    { stream: streams.events, readers: ['profile-sync'], keepsHistory: true, subjects: topology.allEvents },
    { stream: streams.routable, readers: ['filter-router'], keepsHistory: true, subjects: topology.routableEvents },
    // The dispatcher reads the webhook deliveries only: once it has read them all, the websocket ones are nothing of its.
    { stream: streams.deliveries, readers: ['webhook-dispatcher'], keepsHistory: true, subjects: topology.allWebhookDeliveries },
    { stream: streams.attempts, readers: ['delivery-projector'], keepsHistory: true, subjects: topology.deliveryChanges },
  ];
}

/** A data-path stream, by its key in Topology.streams. */
export type StreamKey = keyof Topology['streams'];

/**
 * The streams each app publishes to or reads, by the name it connects with
 * (natsSettings): it creates and updates these and no others, so that its
 * NATS user may manage these alone (deploy/nats/event-service.conf grants
 * the same, and test/nats-permissions.e2e.spec.ts holds the two together).
 */
const STREAMS_OF_APP: Readonly<Record<string, readonly StreamKey[]>> = {
  api: ['deliveries'],
  ingest: ['ingress', 'events', 'deadLetters'],
  'profile-sync': ['events', 'routable', 'deadLetters'],
  'filter-router': ['routable', 'deliveries', 'deadLetters'],
  'websocket-gateway': ['deliveries'],
  'webhook-dispatcher': ['deliveries', 'attempts', 'deadLetters', 'routable'],
};

/** The streams an app sets up; undefined (all of them) for a name that is no app's, such as a test's or a tool's. */
export function streamsOfApp(app: string): readonly StreamKey[] | undefined {
  return Object.hasOwn(STREAMS_OF_APP, app) ? STREAMS_OF_APP[app] : undefined;
}

/**
 * The app that brings each stream's configuration up to date at its start
 * (limits, replicas): the one whose durable consumer reads it, and ingest
 * for the dead letters. The others create a stream only if it does not
 * exist yet and leave an existing one as it is, so their NATS users need no
 * right to reconfigure a stream another app reads (deploy/nats grants the same).
 */
const STREAM_OWNERS: Readonly<Record<StreamKey, string>> = {
  ingress: 'ingest',
  events: 'profile-sync',
  routable: 'filter-router',
  deliveries: 'webhook-dispatcher',
  attempts: 'webhook-dispatcher',
  deadLetters: 'ingest',
};

/** The streams whose configuration this app keeps up to date; undefined (all) for a name that is no app's. */
export function streamsOwnedBy(app: string): readonly StreamKey[] | undefined {
  if (!Object.hasOwn(STREAMS_OF_APP, app)) return undefined;
  return (Object.keys(STREAM_OWNERS) as StreamKey[]).filter((key) => STREAM_OWNERS[key] === app);
}

/**
 * Creates the client's streams (NatsSettings.streams; all when unset), and
 * updates the ones it owns (NatsSettings.ownedStreams; all when unset) to
 * the configured limits. Safe to run from every replica of every app at the
 * same time.
 */
export async function ensureStreams(client: NatsClient): Promise<void> {
  const { streams } = client.topology;
  const all = Object.keys(streams) as StreamKey[];
  const wanted = new Set((client.settings.streams ?? all).map((key) => streams[key]));
  const owned = new Set((client.settings.ownedStreams ?? all).map((key) => streams[key]));
  for (const config of streamConfigs(client).filter(({ name }) => wanted.has(name))) {
    try {
      await client.manager.streams.add(config);
    } catch (error) {
      if (!isAlreadyInUse(error)) {
        throw new Error(`cannot create stream ${config.name}: ${(error as Error).message}`, { cause: error });
      }
      if (owned.has(config.name)) await client.manager.streams.update(config.name, config);
    }
  }
}

function isAlreadyInUse(error: unknown): boolean {
  return /already in use|stream name already/i.test((error as Error).message ?? '');
}
