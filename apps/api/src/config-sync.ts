import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigPublisher, type EndpointRecord, type FilterRecord } from '@app/messaging';
import { EndpointEntity, EventFilterEntity } from '@app/persistence';
import type { ApiConfig } from './api.config.js';
import { API_CONFIG } from './api.tokens.js';

const REPAIR_DELAY_MS = 2_000;

export function toEndpointRecord(entity: EndpointEntity): EndpointRecord {
  return { id: entity.id, name: entity.name, type: entity.type, meta: entity.meta, state: entity.state };
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
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcileSafely(), this.config.CONFIG_RECONCILE_INTERVAL);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.repair) clearTimeout(this.repair);
  }

  async endpointChanged(entity: EndpointEntity): Promise<void> {
    await this.publish(() => this.publisher.putEndpoint(toEndpointRecord(entity)));
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
    await this.publisher.reconcile(endpoints.map(toEndpointRecord), filters.map(toFilterRecord));
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
