import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { NatsClient } from './nats-connection.js';

const DEAD_LETTER_MAX_AGE_MS = 30 * 86_400_000;

/**
 * The streams of the data path, as every app declares them. Each holds at
 * most STREAM_MAX_BYTES and STREAM_MAX_AGE: when full it refuses new
 * messages (publishers get an error: ingest answers 503, consumers wait and
 * retry) rather than discarding its oldest, perhaps undelivered, ones; the
 * StreamTrimmer removes history every consumer has read before it comes to
 * that. The dead letters are the end of the line: when full, their oldest go.
 */
export function streamConfigs(client: NatsClient): Array<Partial<StreamConfig> & { name: string }> {
  const { topology, settings } = client;
  const common = {
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_bytes: settings.streamMaxBytes ?? -1,
    max_age: nanos(settings.streamMaxAgeMs),
    duplicate_window: nanos(Math.min(settings.duplicateWindowMs, settings.streamMaxAgeMs)),
    num_replicas: 1,
  };
  return [
    { ...common, name: topology.streams.ingress, subjects: [topology.allAgentEvents], description: 'Events as agents published them' },
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
      max_age: nanos(Math.max(DEAD_LETTER_MAX_AGE_MS, settings.streamMaxAgeMs)),
      name: topology.streams.deadLetters,
      subjects: [topology.allDeadLetters],
      description: 'Messages that can never succeed, with their reason',
    },
  ];
}

/**
 * Creates the streams, or updates them to the configured limits. Safe to run
 * from every replica of every app at the same time.
 */
/** The streams that refuse when full, and whose read history the StreamTrimmer removes. */
export function trimmedStreams(client: NatsClient): string[] {
  const { streams } = client.topology;
  return [streams.ingress, streams.events, streams.routable, streams.deliveries, streams.attempts];
}

export async function ensureStreams(client: NatsClient): Promise<void> {
  for (const config of streamConfigs(client)) {
    try {
      await client.manager.streams.add(config);
    } catch (error) {
      if (!isAlreadyInUse(error)) {
        throw new Error(`cannot create stream ${config.name}: ${(error as Error).message}`, { cause: error });
      }
      await client.manager.streams.update(config.name, config);
    }
  }
}

function isAlreadyInUse(error: unknown): boolean {
  return /already in use|stream name already/i.test((error as Error).message ?? '');
}
