import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { idKey, type ProfileGroup, type ProfileState } from '@app/events';
import { DeletedProfiles, legacyFloor, NatsClient, openLeasesBucket, PartitionStore } from '@app/messaging';
import { retryWhileTransient } from '@app/runtime';
import type { ProfileSyncConfig } from './profile-sync.config.js';
import { EVENTS_CONSUMER, PROFILE_SYNC_CONFIG } from './profile-sync.tokens.js';

interface Entry {
  state: ProfileState;
  /** The events-stream sequence of the lifecycle message this entry reflects. */
  seq: number;
}

/**
 * Changes kept per profile, newest last: an event read again after a
 * partition moved (or at start) is decided with the profile as it was when
 * the event was stored, not as it is now.
 */
const HISTORY = 4;

/** A lifecycle change as `profile.lifecycle_history` keeps it. */
interface StoredChange {
  seq: number;
  deleted: boolean;
  groups: ProfileGroup[] | null;
}

/** The write is the profile's latest change: the row's columns take it (an older one, written late, only joins the history). */
const NEWER = 'profile.lifecycle_seq < EXCLUDED.lifecycle_seq';
/**
 * The row's history with the written change in its place: the HISTORY latest
 * changes by stream sequence, each once (a row written before the history
 * existed starts from its latest change).
 */
const MERGED_HISTORY = `(
  SELECT jsonb_agg(change ORDER BY (change->>'seq')::bigint) FROM (
    SELECT DISTINCT ON ((change->>'seq')::bigint) change
    FROM jsonb_array_elements(
      COALESCE(profile.lifecycle_history, jsonb_build_array(jsonb_build_object('seq', profile.lifecycle_seq, 'deleted', profile.deleted_at IS NOT NULL, 'groups', profile.profile_groups)))
        || EXCLUDED.lifecycle_history
    ) AS changes(change)
    ORDER BY (change->>'seq')::bigint DESC
    LIMIT ${HISTORY}
  ) AS latest
)`;

/**
 * The registry of the platform's profiles: in memory for the hot path,
 * written through to PostgreSQL (by the replica holding partition 0) so
 * that it survives restarts. Every replica applies the changes to its memory
 * synchronously, in the order the lifecycle messages were stored, before
 * any later event is looked at.
 *
 * Every change carries its lifecycle message's stream sequence, and neither
 * memory nor PostgreSQL ever takes an older one over a newer one: a write
 * retried after an outage, or redelivered out of order, cannot revive a
 * deleted profile or undo a later change.
 *
 * Profiles are keyed by their id's key (idKey), in memory and in
 * PostgreSQL, so a lifecycle message or a candidate may spell an id in any case.
 *
 * Deletions (and a creation after one) also go to the DeletedProfiles
 * bucket, after PostgreSQL, for the paths that send history again without
 * PostgreSQL; at start the deletions within the retention window are
 * recorded there again, in the background.
 */
@Injectable()
export class ProfileRegistry implements OnModuleInit {
  private readonly logger = new Logger(ProfileRegistry.name);
  /** Each profile's latest changes, oldest first (HISTORY at most). */
  private readonly profiles = new Map<string, Entry[]>();
  /** The lifecycle up to this stream sequence was in PostgreSQL when the registry was loaded. */
  loadedThrough = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsClient,
    private readonly deletedProfiles: DeletedProfiles,
    @Inject(PROFILE_SYNC_CONFIG) private readonly config: ProfileSyncConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    // Read before the table: every lifecycle message up to it is in PostgreSQL (partition 0's holder wrote it before it moved on).
    this.loadedThrough = await retryWhileTransient('profile registry', () => this.persistedThrough());
    const rows: Array<{ id: string; profile_groups: ProfileGroup[]; deleted: boolean; lifecycle_seq: string; lifecycle_history: StoredChange[] | null }> = await this.dataSource.query(
      'SELECT id, profile_groups, deleted_at IS NOT NULL AS deleted, lifecycle_seq, lifecycle_history FROM profile',
    );
    for (const row of rows) {
      // Its last changes, not only the latest: an event read again from a partition's position, stored before the
      // latest, is decided with the profile as it was then (deleted, say, before it was created again).
      const changes = row.lifecycle_history ?? [{ seq: Number(row.lifecycle_seq), deleted: row.deleted, groups: row.profile_groups }];
      this.profiles.set(
        idKey(row.id),
        changes
          .map((change): Entry => ({ state: change.deleted ? { deleted: true } : { deleted: false, groups: change.groups ?? [] }, seq: Number(change.seq) }))
          .sort((a, b) => a.seq - b.seq),
      );
    }
    void this.recordDeletions();
  }

  /**
   * The stream sequence up to which the lifecycle is in PostgreSQL: the
   * position of the events consumer's partition 0, whose holder writes it
   * (or, before the first partitioned start, the ack floor of the durable
   * consumer an earlier version read the stream with). The consumer reads
   * the lifecycle after it from the stream before it decides an event.
   */
  private async persistedThrough(): Promise<number> {
    const store = new PartitionStore(await openLeasesBucket(this.nats), EVENTS_CONSUMER);
    // The lowest position of all: partition 0's (PostgreSQL holds the lifecycle up to it), or a lower one, whose events
    // read again are decided with the lifecycle as it was when they were stored (the changes read from there are history).
    if ((await store.count()) !== null) return store.readUpTo();
    return legacyFloor(this.nats, this.nats.topology.streams.events, EVENTS_CONSUMER);
  }

  /**
   * Records the deletions within DELETED_PROFILES_MAX_AGE in the
   * DeletedProfiles bucket (an older version did not, or kept them for
   * STREAM_MAX_AGE only; an older deletion names nothing that may be sent again).
   */
  private async recordDeletions(): Promise<void> {
    const rows: Array<{ id: string; lifecycle_seq: string }> = await this.dataSource.query(
      `SELECT id, lifecycle_seq FROM profile WHERE deleted_at > now() - make_interval(secs => $1)`,
      [this.config.DELETED_PROFILES_MAX_AGE / 1_000],
    );
    let recorded = 0;
    for (const row of rows) {
      const key = idKey(row.id);
      await retryWhileTransient('recording a deleted profile', () => this.deletedProfiles.record(key, true, Number(row.lifecycle_seq))).catch((error: Error) =>
        this.logger.warn(`cannot record the deletion of profile ${key}: ${error.message}`),
      );
      recorded += 1;
    }
    if (recorded > 0) this.logger.log(`recorded ${recorded} deleted profiles for resumed histories`);
  }

  get size(): number {
    return this.profiles.size;
  }

  /**
   * The profile as the lifecycle stored before stream sequence `before` left
   * it (by default, as it is now); undefined when no change of it before
   * then is known.
   */
  state(profileId: string, before = Number.POSITIVE_INFINITY): ProfileState | undefined {
    const history = this.profiles.get(idKey(profileId));
    if (!history) return undefined;
    for (let index = history.length - 1; index >= 0; index -= 1) if (history[index]!.seq < before) return history[index]!.state;
    return undefined;
  }

  /** Applies in memory at once; the promise resolves when PostgreSQL has it (or a later change). */
  upsert(profileId: string, groups: ProfileGroup[], seq: number): Promise<void> {
    const key = idKey(profileId);
    this.applyInMemory(key, { deleted: false, groups }, seq);
    return this.dataSource.query(
      `INSERT INTO profile (id, profile_groups, deleted_at, updated_at, lifecycle_seq, lifecycle_history) VALUES ($1, $2, NULL, now(), $3, jsonb_build_array($4::jsonb))
       ON CONFLICT (id) DO UPDATE SET lifecycle_history = ${MERGED_HISTORY},
         profile_groups = CASE WHEN ${NEWER} THEN EXCLUDED.profile_groups ELSE profile.profile_groups END,
         deleted_at = CASE WHEN ${NEWER} THEN NULL ELSE profile.deleted_at END,
         updated_at = CASE WHEN ${NEWER} THEN now() ELSE profile.updated_at END,
         lifecycle_seq = GREATEST(profile.lifecycle_seq, EXCLUDED.lifecycle_seq)`,
      [key, JSON.stringify(groups), seq, JSON.stringify({ seq, deleted: false, groups } satisfies StoredChange)],
    ).then(() => this.deletedProfiles.record(key, false, seq));
  }

  delete(profileId: string, seq: number): Promise<void> {
    const key = idKey(profileId);
    this.applyInMemory(key, { deleted: true }, seq);
    return this.dataSource.query(
      `INSERT INTO profile (id, deleted_at, updated_at, lifecycle_seq, lifecycle_history) VALUES ($1, now(), now(), $2, jsonb_build_array($3::jsonb))
       ON CONFLICT (id) DO UPDATE SET lifecycle_history = ${MERGED_HISTORY},
         deleted_at = CASE WHEN ${NEWER} THEN now() ELSE profile.deleted_at END,
         updated_at = CASE WHEN ${NEWER} THEN now() ELSE profile.updated_at END,
         lifecycle_seq = GREATEST(profile.lifecycle_seq, EXCLUDED.lifecycle_seq)`,
      [key, seq, JSON.stringify({ seq, deleted: true, groups: null } satisfies StoredChange)],
    ).then(() => this.deletedProfiles.record(key, true, seq));
  }

  /** Applies a change in memory only (a replica that does not write the lifecycle: it does not hold partition 0). */
  apply(profileId: string, state: ProfileState, seq: number): void {
    this.applyInMemory(profileId, state, seq);
  }

  /** Adds a change in its place among the profile's (a change read again, or an older one than memory holds, included). */
  private applyInMemory(profileId: string, state: ProfileState, seq: number): void {
    const key = idKey(profileId);
    const history = this.profiles.get(key);
    if (!history) {
      this.profiles.set(key, [{ state, seq }]);
      return;
    }
    if (history.some((entry) => entry.seq === seq)) return;
    // Older than all it keeps, with no room: the profile as it was then is not known (undefined) any more.
    if (history.length >= HISTORY && seq < history[0]!.seq) return;
    let index = history.length;
    while (index > 0 && history[index - 1]!.seq > seq) index -= 1;
    history.splice(index, 0, { state, seq });
    if (history.length > HISTORY) history.shift();
  }
}
