import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import { retryWhileTransient } from '@app/runtime';
import { ConfigKeys, versionOfValue } from './config-records.js';
import type { EndpointHealth } from '@app/domain';
import type { NatsClient } from './nats-connection.js';
import { isWrongLastSequence } from './publisher.js';
import { replicasOf, warnWhenReplicasDiffer } from './replicas.js';

/**
 * The buckets the api publishes to, each read by the apps that use it (so
 * that a watch, which has one filter subject on nats-server 2.9, reaches
 * nothing an app does not use): `config` (endpoints, filters, endpoint
 * health: every data-path app), `secrets` (webhooks' sealed secrets: the
 * dispatcher), `tokens` (token hashes: the api, ingest and the gateway).
 */
export type ConfigBucketName = 'config' | 'secrets' | 'tokens';

/** The bucket a key lives in (ConfigKeys). */
export function bucketOfKey(key: string): ConfigBucketName {
  const kind = ConfigKeys.parse(key)?.kind;
  if (kind === 'secrets') return 'secrets';
  if (kind === 'token' || kind === 'connection-token') return 'tokens';
  return 'config';
}

/** The bucket's name in NATS (`<p>_config`, `<p>_secrets`, `<p>_tokens`). */
export function bucketName(client: Pick<NatsClient, 'topology'>, bucket: ConfigBucketName): string {
  const { topology } = client;
  return bucket === 'config' ? topology.configBucket : bucket === 'secrets' ? topology.secretsBucket : topology.tokensBucket;
}

/** Opens (creating if needed) the KV bucket that carries config to the data path. */
export async function openConfigBucket(client: NatsClient, which: ConfigBucketName = 'config'): Promise<KV> {
  const replicas = replicasOf(client.settings);
  return retryWhileTransient(`${which} bucket set-up`, async () => {
    const bucket = await new Kvm(client.connection).create(bucketName(client, which), { history: 1, storage: StorageType.File, replicas });
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

  /** Removes every key under these filters (one at a time: nats-server 2.9 has no consumer with several); returns how many. */
  async removeAll(filters: string[]): Promise<number> {
    const keys: string[] = [];
    for (const filter of filters) for await (const key of await this.bucket.keys(filter)) keys.push(key);
    for (const key of keys) await this.bucket.purge(key);
    return keys.length;
  }
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

/** A key's bucket and the revision of it that holds the key's value (ConfigPublishers.publish). */
export type PublishedRevisions = Partial<Record<ConfigBucketName, number>>;

/** The api's publishers, one per bucket: a change goes to the bucket its key lives in (bucketOfKey). */
export class ConfigPublishers {
  constructor(private readonly publishers: Record<ConfigBucketName, ConfigPublisher>) {}

  /**
   * Brings these keys in line with the source of truth, bucket by bucket in
   * the order secrets, tokens, config (so a webhook's secrets and an
   * endpoint's connection token are there before the endpoint); returns the
   * revision of each bucket that holds them.
   */
  async publish(keys: string[], read: ReadCurrent): Promise<PublishedRevisions> {
    const revisions: PublishedRevisions = {};
    for (const bucket of ['secrets', 'tokens', 'config'] as const) {
      const ofBucket = keys.filter((key) => bucketOfKey(key) === bucket);
      if (ofBucket.length > 0) revisions[bucket] = await this.publishers[bucket].publish(ofBucket, read);
    }
    return revisions;
  }

  /** Says that the api has published the whole config, and the whole of the secrets: a view of either is not loaded before. */
  async markPublished(): Promise<void> {
    await this.publishers.secrets.markPublished();
    await this.publishers.config.markPublished();
  }

  /**
   * An older api kept the sealed secrets and the token hashes in the config
   * bucket, which every data-path app reads: once they are in their own
   * buckets, they go from it. Returns how many keys went.
   */
  removeLegacyKeys(): Promise<number> {
    return this.publishers.config.removeAll(['secrets.>', 'tokens.>']);
  }
}
