import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigPublisher, type EndpointRecord } from '@app/messaging';
import { EndpointEntity } from '@app/persistence';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';

const REPAIR_DELAY_MS = 2_000;

export function toRecord(entity: EndpointEntity): EndpointRecord {
  return { id: entity.id, name: entity.name, type: entity.type, meta: entity.meta };
}

/**
 * Carries endpoint changes from PostgreSQL (the source of truth) to the
 * config bucket the data path watches. A change whose publish fails is
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
    await this.publish(() => this.publisher.putEndpoint(toRecord(entity)));
  }

  async endpointRemoved(id: string): Promise<void> {
    await this.publish(() => this.publisher.removeEndpoint(id));
  }

  async reconcile(): Promise<void> {
    const endpoints = await this.dataSource.getRepository(EndpointEntity).find();
    await this.publisher.reconcileEndpoints(endpoints.map(toRecord));
  }

  private async publish(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      // PostgreSQL already holds the change: it reaches the data path with the repair.
      this.logger.warn(`config publish failed, repairing in ${REPAIR_DELAY_MS} ms: ${(error as Error).message}`);
      this.repair ??= setTimeout(() => {
        this.repair = null;
        void this.reconcileSafely();
      }, REPAIR_DELAY_MS);
    }
  }

  private async reconcileSafely(): Promise<void> {
    try {
      await this.reconcile();
    } catch (error) {
      this.logger.warn(`config reconcile failed: ${(error as Error).message}`);
    }
  }
}
