import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventFilterEntity, retryOnConflict } from '@app/persistence';
import { ConfigSync } from '../config-sync.js';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';

/** The event filter records the event filter use cases share; every change reaches the router live. */
@Injectable()
export class EventFilterRegistry {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sync: ConfigSync,
  ) {}

  private get repository() {
    return this.dataSource.getRepository(EventFilterEntity);
  }

  /** The filter with its endpoints, or NOT_FOUND. */
  async find(id: string): Promise<EventFilterEntity> {
    const filter = await this.repository.findOne({ where: { id: parseUuid('id', id) }, relations: { endpoints: true } });
    if (!filter) throw new ApiError('NOT_FOUND', `no event filter has id ${id}`, 'id');
    return filter;
  }

  /**
   * Changes a filter (loaded with its endpoints) under its row lock, then
   * publishes it: concurrent changes never overwrite each other, and a filter
   * deleted meanwhile is NOT_FOUND, never created again by the save. A
   * transaction PostgreSQL rolls back for a concurrent one runs again.
   */
  async change(id: string, apply: (filter: EventFilterEntity) => Promise<void>): Promise<EventFilterEntity> {
    const key = parseUuid('id', id);
    const saved = await retryOnConflict(() =>
      this.dataSource.transaction(async (manager) => {
        const repository = manager.getRepository(EventFilterEntity);
        const locked = await repository.findOne({ where: { id: key }, lock: { mode: 'pessimistic_write' } });
        if (!locked) throw new ApiError('NOT_FOUND', `no event filter has id ${id}`, 'id');
        const filter = (await repository.findOne({ where: { id: key }, relations: { endpoints: true } }))!;
        await apply(filter);
        return repository.save(filter);
      }),
    );
    await this.sync.filterChanged(saved);
    return saved;
  }

  /** Saves a new filter (with its endpoints) and publishes it to the router. */
  async save(filter: EventFilterEntity): Promise<EventFilterEntity> {
    const saved = await retryOnConflict(() => this.repository.save(filter));
    await this.sync.filterChanged(saved);
    return saved;
  }
}
