import { Kvm, type KV } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { checkProfiles, idKey, type AgentEvent, type ProfileState } from '@app/events';
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
 * The profiles deleted within the retention window: the one read model of
 * every path that sends history again (resendDelivery, replay jobs, a
 * websocket client's resume), with the one rule of `recheck`. A KV bucket
 * written by profile-sync, the owner of the profile registry, each entry
 * kept as long as anything naming it may be sent again
 * (DELETED_PROFILES_MAX_AGE: the replay window and the resend window). A profile
 * created again after its deletion stays in it as not deleted; one never
 * deleted is not in it. Entries never go backwards: each carries its
 * lifecycle message's stream sequence and is written only over an older one.
 */
export class DeletedProfiles {
  private constructor(private readonly bucket: KV) {}

  /**
   * Opens the bucket, creating it if it is missing, its entries kept
   * `maxAgeMs`. The owner (profile-sync, its writer) also sets an existing
   * bucket's age to `maxAgeMs` when it differs; the others open it as it is.
   */
  static async open(client: NatsClient, maxAgeMs: number, { owner = false }: { owner?: boolean } = {}): Promise<DeletedProfiles> {
    const replicas = replicasOf(client.settings);
    const bucket = await retryWhileTransient('deleted-profiles bucket set-up', async () => {
      const opened = await new Kvm(client.connection).create(client.topology.deletedProfilesBucket, { history: 1, ttl: maxAgeMs, storage: StorageType.File, replicas });
      const status = await opened.status();
      warnWhenReplicasDiffer(status.streamInfo.config.name, status.replicas, replicas);
      if (owner && status.ttl !== maxAgeMs) {
        await client.manager.streams.update(status.streamInfo.config.name, { ...status.streamInfo.config, max_age: nanos(maxAgeMs) });
      }
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

  /**
   * A delivery as it is sent again (a resend, a replay, a resume): without
   * the candidates whose profiles were deleted since it was routed, every
   * other candidate's groups as they were routed; null when nothing is left
   * of an identification. `known`: the profiles looked up so far, kept across
   * the deliveries of one replay or resume.
   */
  async recheck(body: Uint8Array, known = new Map<string, boolean>()): Promise<Uint8Array | null> {
    const event = JSON.parse(Buffer.from(body).toString('utf8')) as AgentEvent;
    const candidates = 'candidates' in event && event.candidates ? event.candidates : [];
    if (candidates.length === 0) return body;
    for (const candidate of candidates) {
      const key = idKey(candidate.profile.id);
      if (!known.has(key)) known.set(key, await this.isDeleted(key));
    }
    const result = checkProfiles(event, (key): ProfileState | undefined => (known.get(key) ? { deleted: true } : undefined));
    if (result.kind === 'lost') return null;
    return result.changed ? new TextEncoder().encode(JSON.stringify(result.event)) : body;
  }
}
