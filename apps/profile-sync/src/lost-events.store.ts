import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { idKey, type AgentEvent } from '@app/events';
import type { ProfileSyncConfig } from './profile-sync.config.js';
import { PROFILE_SYNC_CONFIG } from './profile-sync.tokens.js';

export const ALL_CANDIDATES_DELETED = 'ALL_CANDIDATES_DELETED';
const PRUNE_INTERVAL_MS = 3_600_000;

/** Lost events in PostgreSQL, queryable through the api's `lostEvents`; pruned past their retention. */
@Injectable()
export class LostEventsStore implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(LostEventsStore.name);
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(PROFILE_SYNC_CONFIG) private readonly config: ProfileSyncConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Stores `event` as it would have been delivered (checkProfiles' lost
   * event: the deleted candidates removed). The column is `json`, not
   * `jsonb`, so that the event keeps the agent's key order. Ids are stored as
   * their keys. Idempotent: an event diverted twice (a redelivery) is stored once.
   */
  async divert(event: AgentEvent, deletedProfileIds: string[]): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO lost_event (event_id, type, camera_id, agent_id, detection_date, detected_at, event, reason, deleted_profile_ids)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (event_id) DO NOTHING`,
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
  }

  private async prune(): Promise<void> {
    try {
      await this.dataSource.query('DELETE FROM lost_event WHERE diverted_at < now() - make_interval(secs => $1::double precision / 1000)', [
        this.config.LOST_EVENTS_RETENTION,
      ]);
    } catch (error) {
      this.logger.warn(`cannot prune lost events: ${(error as Error).message}`);
    }
  }
}
