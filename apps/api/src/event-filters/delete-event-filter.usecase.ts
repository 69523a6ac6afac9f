import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventFilterEntity, retryOnConflict } from '@app/persistence';
import { ConfigSync } from '../config-sync.js';
import { EventFilterRegistry } from './event-filter-registry.js';

/** Deletes an event filter; the router stops using it. */
@Injectable()
export class DeleteEventFilter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: EventFilterRegistry,
    private readonly sync: ConfigSync,
  ) {}

  async execute(id: string): Promise<boolean> {
    const filter = await this.registry.find(id);
    await retryOnConflict(() => this.dataSource.getRepository(EventFilterEntity).delete({ id: filter.id }));
    await this.sync.filterRemoved(filter.id);
    return true;
  }
}
