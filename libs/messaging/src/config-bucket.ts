import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import { retryWhileTransient } from '@app/runtime';
import { ConfigKeys, versionOfValue } from './config-records.js';
import type { EndpointHealth } from './endpoint-state.js';
import type { NatsClient } from './nats-connection.js';
import { replicasOf, warnWhenReplicasDiffer } from './replicas.js';

/** Opens (creating if needed) the KV bucket that carries config to the data path. */
export async function openConfigBucket(client: NatsClient): Promise<KV> {
  const replicas = replicasOf(client.settings);
  return retryWhileTransient('config bucket set-up', async () => {
    const bucket = await new Kvm(client.connection).create(client.topology.configBucket, { history: 1, storage: StorageType.File, replicas });
    const status = await bucket.status();
    warnWhenReplicasDiffer(status.streamInfo.config.name, status.replicas, replicas);
    return bucket;
  });
}

/** A record as its owner holds it now: the value to publish and the version it carries. */
export interface CurrentValue {
  version: number;
  value: string;
}

/** Reads the source of truth for these keys now; a key it leaves out no longer exists. */
export type ReadCurrent = (keys: string[]) => Promise<Map<string, CurrentValue>>;

/** How many times a key lost a race with another writer before giving up until the next reconcile. */
const MAX_ROUNDS = 10;

/**
 * The api's side. A key is published by reading the bucket's entry first,
 * then the source of truth, then writing only if the bucket's copy is older,
 * on the condition that the entry has not changed since it was read (its
 * revision). So the bucket never goes backwards: a stale writer (another
 * replica, a reconcile that read PostgreSQL a moment ago) loses the race
 * and looks again; a record deleted from the source of truth is deleted
 * from the bucket, and a deletion is never undone (ids are never reused, and
 * a write that read the record before the deletion finds the entry changed).
 */
export class ConfigPublisher {
  constructor(private readonly bucket: KV) {}

  /**
   * Brings these keys in line with the source of truth, in order (a
   * webhook's secrets before its endpoint). Returns the bucket revision that
   * holds them all: a view that has applied it has these records as they are.
   */
  async publish(keys: string[], read: ReadCurrent): Promise<number> {
    let pending = keys;
    let revision = 0;
    for (let round = 1; pending.length > 0; round += 1) {
      if (round > MAX_ROUNDS) throw new Error(`config keys kept changing while they were published: ${pending.slice(0, 3).join(', ')}`);
      // The entries before the source of truth: a change made in between shows as a changed revision.
      const entries = await Promise.all(pending.map((key) => this.bucket.get(key)));
      const current = await read(pending);
      const raced: string[] = [];
      for (const [index, key] of pending.entries()) {
        const written = await this.write(key, entries[index] ?? null, current.get(key));
        if (written === false) raced.push(key);
        else revision = Math.max(revision, written);
      }
      pending = raced;
    }
    return revision;
  }

  /** The revision that holds the key's value now; false when another writer changed the entry since it was read. */
  private async write(key: string, entry: KvEntry | null, current: CurrentValue | undefined): Promise<number | false> {
    const present = entry?.operation === 'PUT' ? entry : null;
    if (!current) {
      if (entry !== null && !present) return entry.revision;
      // A marker even where nothing was published: a writer that read the record before it was deleted then fails.
      await this.bucket.delete(key);
      return (await this.bucket.get(key))?.revision ?? 0;
    }
    if (present && versionOfValue(present.string()) >= current.version) return present.revision;
    try {
      return await this.bucket.put(key, current.value, { previousSeq: entry?.revision ?? 0 });
    } catch (error) {
      if (isWrongLastSequence(error)) return false;
      throw error;
    }
  }

  /** Says that the api has published the whole config once: a data-path view is not loaded before. */
  async markPublished(): Promise<void> {
    const entry = await this.bucket.get(ConfigKeys.published);
    if (entry?.operation !== 'PUT') await this.bucket.put(ConfigKeys.published, JSON.stringify({ at: new Date().toISOString() }));
  }
}

function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/**
 * The dispatcher's side: its own record of each endpoint's delivery health.
 * A later decision wins (`decidedAt`), whichever replica publishes last, by
 * the same conditional write as the api's.
 */
export class EndpointHealthPublisher {
  constructor(private readonly bucket: KV) {}

  async put(endpointId: string, health: EndpointHealth): Promise<void> {
    const key = ConfigKeys.health(endpointId);
    for (let round = 1; round <= MAX_ROUNDS; round += 1) {
      const entry = await this.bucket.get(key);
      if (entry?.operation === 'PUT' && decidedAtOf(entry.string()) >= Date.parse(health.decidedAt)) return;
      try {
        await this.bucket.put(key, JSON.stringify(health), { previousSeq: entry?.revision ?? 0 });
        return;
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
      }
    }
  }
}

function decidedAtOf(value: string): number {
  try {
    const decidedAt = Date.parse(String((JSON.parse(value) as { decidedAt?: unknown }).decidedAt));
    return Number.isNaN(decidedAt) ? -Infinity : decidedAt;
  } catch {
    return -Infinity;
  }
}
