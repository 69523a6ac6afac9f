import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { ProfileGroup } from '@app/events';

/**
 * A platform profile as its lifecycle messages told it. Owned by
 * profile-sync, its only writer; other apps (the api's deleted-profile check)
 * only read it.
 */
@Entity({ name: 'profile' })
export class ProfileEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  /** The profile's groups (watchlists) as of its last upsert. */
  @Column({ name: 'profile_groups', type: 'jsonb', default: () => "'[]'::jsonb" })
  profileGroups!: ProfileGroup[];

  /** Set when the profile was deleted; the row stays, so late events are still checked. */
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  /**
   * The events-stream sequence of the lifecycle message this row reflects: a
   * write retried after an outage never overwrites a later one. A bigint, so
   * PostgreSQL hands it over as a string.
   */
  @Column({ name: 'lifecycle_seq', type: 'bigint', default: 0 })
  lifecycleSeq!: string;

  /**
   * The profile's last lifecycle changes, oldest first (`{ seq, deleted,
   * groups }`), the latest included: what it was before a later change, for
   * events read again after a restart. Null on rows written before it.
   */
  @Column({ name: 'lifecycle_history', type: 'jsonb', nullable: true })
  lifecycleHistory!: Array<{ seq: number; deleted: boolean; groups: ProfileGroup[] | null }> | null;
}
