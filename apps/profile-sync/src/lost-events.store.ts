import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { idKey, type AgentEvent } from '@app/events';
import { deleteOlderThan, PruneSchedule } from '@app/persistence';
import type { ProfileSyncConfig } from './profile-sync.config.js';
import { PROFILE_SYNC_CONFIG } from './profile-sync.tokens.js';

export const ALL_CANDIDATES_DELETED = 'ALL_CANDIDATES_DELETED';

/** Lost events in PostgreSQL, queryable through the api's `lostEvents`; pruned past their retention. */
@Injectable()
export class LostEventsStore implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pruning = new PruneSchedule('lost events', () => this.prune());

  constructor(
    private readonly dataSource: DataSource,
    @Inject(PROFILE_SYNC_CONFIG) private readonly config: ProfileSyncConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.pruning.start();
  }

  onApplicationShutdown(): void {
    this.pruning.stop();
  }

  /**
   * Stores `event` as it would have been delivered (checkProfiles' lost
   * event: the deleted candidates removed). The column is `json`, not
   * `jsonb`, so that the event keeps the agent's key order. Ids are stored as
   * their keys. Idempotent: an event diverted twice (a redelivery) is stored
   * once; true when this call stored it.
   */
  async divert(event: AgentEvent, deletedProfileIds: string[]): Promise<boolean> {
    const stored: unknown[] = await this.dataSource.query(
      `INSERT INTO lost_event (event_id, type, camera_id, agent_id, detection_date, detected_at, event, reason, deleted_profile_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [
        idKey(event.event.id),
        event.type,
        idKey(event.camera.id),
        idKey(event.camera.agent_id),
        event.event.detection_date,
        new Date(event.event.detection_date.replace(' ', 'T')),
        JSON.stringify(event),
        ALL_CANDIDATES_DELETED,
        deletedProfileIds.map(idKey),
      ],
    );
    return stored.length > 0;
  }

  private async prune(): Promise<string | null> {
    const pruned = await deleteOlderThan(this.dataSource, 'lost_event', 'diverted_at', this.config.LOST_EVENTS_RETENTION);
    return pruned > 0 ? `pruned ${pruned} past LOST_EVENTS_RETENTION` : null;
  }
}
