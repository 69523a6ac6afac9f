import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigKeys, ConfigPublisher, type EndpointRecord, type FilterRecord } from '@app/messaging';
import { EndpointEntity, EventFilterEntity } from '@app/persistence';
import { SecretBox, type EndpointSecrets } from '@app/webhooks';
import type { ApiConfig } from './api.config.js';
import { API_CONFIG } from './api.tokens.js';

const REPAIR_DELAY_MS = 2_000;

export function toEndpointRecord(entity: EndpointEntity): EndpointRecord {
  return { id: entity.id, name: entity.name, type: entity.type, meta: entity.meta, state: entity.state, resumeGeneration: entity.resumeGeneration };
}

/** Needs the filter loaded with its endpoints. */
export function toFilterRecord(entity: EventFilterEntity): FilterRecord {
  return {
    id: entity.id,
    endpointIds: entity.endpoints.map((endpoint) => endpoint.id),
    cameraIds: entity.cameraIds,
    agentIds: entity.agentIds,
    profileGroupIds: entity.profileGroupIds,
    eventTypes: entity.eventTypes,
  };
}

/**
 * Carries endpoint and filter changes from PostgreSQL (the source of truth)
 * to the config bucket the data path watches. A change whose publish fails is
 * repaired by a reconcile shortly after; a full reconcile also runs at start
 * and periodically.
 */
@Injectable()
export class ConfigSync implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConfigSync.name);
  private timer: NodeJS.Timeout | null = null;
  private repair: NodeJS.Timeout | null = null;

  constructor(
    private readonly publisher: ConfigPublisher,
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A slow or unreachable NATS at start is repaired shortly after, never the end of the process.
    await this.reconcileSafely(true);
    this.timer = setInterval(() => void this.reconcileSafely(), this.config.CONFIG_RECONCILE_INTERVAL);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.repair) clearTimeout(this.repair);
  }

  /** A webhook's sealed signing material goes first, so the dispatcher never sees the endpoint without it. */
  async endpointChanged(entity: EndpointEntity): Promise<void> {
    await this.publish(async () => {
      if (entity.type === 'WEB_HOOK') {
        const sealed = (await this.sealedSecrets(entity.id)).get(entity.id);
        if (sealed) await this.publisher.putSecrets(entity.id, sealed);
      }
      await this.publisher.putEndpoint(toEndpointRecord(entity));
    });
  }

  /**
   * Webhooks' signing secrets, previous secrets in their grace window and
   * custom headers, sealed with CONFIG_SECRET_KEY: the dispatcher signs with
   * them without PostgreSQL, and NATS never carries them in the clear.
   */
  private async sealedSecrets(endpointId?: string): Promise<Map<string, string>> {
    const rows: Array<{
      id: string;
      signing_secret: string;
      previous_signing_secret: string | null;
      previous_secret_expires_at: Date | null;
      custom_headers: Record<string, string>;
    }> = await this.dataSource.query(
      `SELECT id, signing_secret, previous_signing_secret, previous_secret_expires_at, custom_headers FROM endpoint
       WHERE signing_secret IS NOT NULL AND ($1::uuid IS NULL OR id = $1)`,
      [endpointId ?? null],
    );
    return new Map(
      rows.map((row) => {
        const secrets: EndpointSecrets = {
          current: row.signing_secret,
          previous: row.previous_signing_secret,
          previousExpiresAt: row.previous_secret_expires_at?.toISOString() ?? null,
          customHeaders: row.custom_headers,
        };
        return [row.id, this.box.seal(secrets, ConfigKeys.secrets(row.id))];
      }),
    );
  }

  /** `detachedFilters`: the filters that named the endpoint, as they are now without it. */
  async endpointRemoved(id: string, detachedFilters: EventFilterEntity[]): Promise<void> {
    await this.publish(async () => {
      for (const filter of detachedFilters) await this.publisher.putFilter(toFilterRecord(filter));
      await this.publisher.removeEndpoint(id);
    });
  }

  async filterChanged(entity: EventFilterEntity): Promise<void> {
    await this.publish(() => this.publisher.putFilter(toFilterRecord(entity)));
  }

  async filterRemoved(id: string): Promise<void> {
    await this.publish(() => this.publisher.removeFilter(id));
  }

  async reconcile(): Promise<void> {
    const endpoints = await this.dataSource.getRepository(EndpointEntity).find();
    const filters = await this.dataSource.getRepository(EventFilterEntity).find({ relations: { endpoints: true } });
    await this.publisher.reconcile(endpoints.map(toEndpointRecord), filters.map(toFilterRecord), await this.sealedSecrets());
  }

  private async publish(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      // PostgreSQL already holds the change: it reaches the data path with the repair.
      this.logger.warn(`config publish failed, repairing in ${REPAIR_DELAY_MS} ms: ${(error as Error).message}`);
      this.scheduleRepair();
    }
  }

  private scheduleRepair(): void {
    this.repair ??= setTimeout(() => {
      this.repair = null;
      void this.reconcileSafely(true);
    }, REPAIR_DELAY_MS);
  }

  private async reconcileSafely(repairing = false): Promise<void> {
    try {
      await this.reconcile();
    } catch (error) {
      this.logger.warn(`config reconcile failed: ${(error as Error).message}`);
      if (repairing) this.scheduleRepair();
    }
  }
}
