import { Kvm, type KV } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import { retryWhileTransient } from '@app/runtime';
import type { NatsClient } from './nats-connection.js';
import { isWrongLastSequence } from './publisher.js';
import { replicasOf, warnWhenReplicasDiffer } from './replicas.js';

/** A profile's entry: deleted or not (created again), as of its lifecycle message `seq`. */
interface DeletedProfile {
  deleted: boolean;
  seq: number;
}

const MAX_ROUNDS = 5;

/**
 * The profiles deleted within the retention window, for the paths that send
 * history again without PostgreSQL (a websocket client's resume): a KV bucket
 * written by profile-sync, the owner of the profile registry, each entry
 * kept as long as the events that may name it (STREAM_MAX_AGE). A profile
 * created again after its deletion stays in it as not deleted; one never
 * deleted is not in it. Entries never go backwards: each carries its
 * lifecycle message's stream sequence and is written only over an older one.
 */
export class DeletedProfiles {
  private constructor(private readonly bucket: KV) {}

  static async open(client: NatsClient, maxAgeMs: number): Promise<DeletedProfiles> {
    const replicas = replicasOf(client.settings);
    const bucket = await retryWhileTransient('deleted-profiles bucket set-up', async () => {
      const opened = await new Kvm(client.connection).create(client.topology.deletedProfilesBucket, { history: 1, ttl: maxAgeMs, storage: StorageType.File, replicas });
      const status = await opened.status();
      warnWhenReplicasDiffer(status.streamInfo.config.name, status.replicas, replicas);
      return opened;
    });
    return new DeletedProfiles(bucket);
  }

  /** Records a deletion, or a creation after one (`deleted: false`), unless a later lifecycle message was recorded. */
  async record(profileKey: string, deleted: boolean, seq: number): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      const entry = await this.bucket.get(profileKey);
      const known = entry?.operation === 'PUT' ? (entry.json<DeletedProfile>().seq ?? -1) : -1;
      // A profile never deleted needs no entry; an older message never overwrites a newer one.
      if ((!deleted && known < 0) || known >= seq) return;
      try {
        await this.bucket.put(profileKey, JSON.stringify({ deleted, seq } satisfies DeletedProfile), { previousSeq: entry?.revision ?? 0 });
        return;
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
      }
    }
    throw new Error(`profile ${profileKey}: its entry kept changing while it was recorded`);
  }

  /** True when the profile (its key) was deleted and not created again. */
  async isDeleted(profileKey: string): Promise<boolean> {
    const entry = await this.bucket.get(profileKey);
    return entry?.operation === 'PUT' && entry.json<DeletedProfile>().deleted === true;
  }
}
