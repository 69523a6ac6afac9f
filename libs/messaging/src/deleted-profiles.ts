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
/** Answers shared at most (DeletedProfiles.open's shareMs): the oldest go first. */
const MAX_SHARED = 100_000;

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
  /** Lookups by profile key, shared for `shareMs` (a reconnect wave's clients resend the same histories). */
  private readonly shared = new Map<string, { deleted: Promise<boolean>; at: number }>();

  private constructor(
    private readonly bucket: KV,
    private readonly shareMs: number,
  ) {}

  /**
   * Opens the bucket, creating it if it is missing, its entries kept
   * `maxAgeMs`. The owner (profile-sync, its writer) also sets an existing
   * bucket's age to `maxAgeMs` when it differs; the others open it as it is.
   * `shareMs`: how long one lookup of a profile answers every other asking
   * after it in this process (0: none); a deletion recorded meanwhile is
   * seen by the lookups after that.
   */
  static async open(client: NatsClient, maxAgeMs: number, { owner = false, shareMs = 0 }: { owner?: boolean; shareMs?: number } = {}): Promise<DeletedProfiles> {
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
    return new DeletedProfiles(bucket, shareMs);
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
  isDeleted(profileKey: string): Promise<boolean> {
    if (this.shareMs <= 0) return this.lookUp(profileKey);
    const now = Date.now();
    const held = this.shared.get(profileKey);
    if (held && now - held.at < this.shareMs) return held.deleted;
    if (this.shared.size >= MAX_SHARED) {
      for (const [key, { at }] of this.shared) if (now - at >= this.shareMs) this.shared.delete(key);
      // Insertion order is age order: the oldest go while it is still full.
      for (const key of this.shared.keys()) {
        if (this.shared.size < MAX_SHARED) break;
        this.shared.delete(key);
      }
    }
    const deleted = this.lookUp(profileKey);
    this.shared.delete(profileKey);
    this.shared.set(profileKey, { deleted, at: now });
    // A failed lookup is asked again by the next one.
    deleted.catch(() => {
      if (this.shared.get(profileKey)?.deleted === deleted) this.shared.delete(profileKey);
    });
    return deleted;
  }

  private async lookUp(profileKey: string): Promise<boolean> {
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
