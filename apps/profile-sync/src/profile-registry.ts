import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ProfileGroup, ProfileState } from '@app/events';

/**
 * The registry of the platform's profiles: in memory for the hot path,
 * written through to PostgreSQL so that it survives restarts. Changes are
 * applied to memory synchronously, in the order the lifecycle messages were
 * stored, before any later event is looked at.
 */
@Injectable()
export class ProfileRegistry implements OnModuleInit {
  private readonly profiles = new Map<string, ProfileState>();

  constructor(private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    const rows: Array<{ id: string; profile_groups: ProfileGroup[]; deleted: boolean }> = await this.dataSource.query(
      'SELECT id, profile_groups, deleted_at IS NOT NULL AS deleted FROM profile',
    );
    for (const row of rows) this.profiles.set(row.id, row.deleted ? { deleted: true } : { deleted: false, groups: row.profile_groups });
  }

  get size(): number {
    return this.profiles.size;
  }

  state(profileId: string): ProfileState | undefined {
    return this.profiles.get(profileId);
  }

  /** Applies in memory at once; the promise resolves when PostgreSQL has it. */
  upsert(profileId: string, groups: ProfileGroup[]): Promise<void> {
    this.profiles.set(profileId, { deleted: false, groups });
    return this.dataSource.query(
      `INSERT INTO profile (id, profile_groups, deleted_at, updated_at) VALUES ($1, $2, NULL, now())
       ON CONFLICT (id) DO UPDATE SET profile_groups = EXCLUDED.profile_groups, deleted_at = NULL, updated_at = now()`,
      [profileId, JSON.stringify(groups)],
    );
  }

  delete(profileId: string): Promise<void> {
    this.profiles.set(profileId, { deleted: true });
    return this.dataSource.query(
      `INSERT INTO profile (id, deleted_at, updated_at) VALUES ($1, now(), now())
       ON CONFLICT (id) DO UPDATE SET deleted_at = now(), updated_at = now()`,
      [profileId],
    );
  }
}
