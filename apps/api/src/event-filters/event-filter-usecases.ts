import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, In, type FindOptionsOrder, type FindOptionsWhere } from 'typeorm';
import { EndpointEntity, EventFilterEntity } from '@app/persistence';
import { ConfigSync } from '../config-sync.js';
import { parseName } from '../endpoints/endpoint-input.js';
import { ApiError } from '../graphql/api.error.js';
import { assertUuid, idsOf, pageOf, SortDirection, type Pagination } from '../graphql/collection.model.js';
import { parseConditions, parseEndpointIds } from './event-filter-input.js';
import type { EventFilterFilters, EventFilterOrder, EventFiltersInput, EventFiltersUpdateInput } from './event-filter.model.js';

/** Creates, changes, deletes and lists event filters; every change reaches the router live. */
@Injectable()
export class EventFilterUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sync: ConfigSync,
  ) {}

  private get repository() {
    return this.dataSource.getRepository(EventFilterEntity);
  }

  async create(input: EventFiltersInput): Promise<EventFilterEntity> {
    const filter = this.repository.create({
      id: randomUUID(),
      name: parseName(input.name),
      ...parseConditions(input.in),
      endpoints: await this.existingEndpoints(input.endpointIds ?? []),
    });
    const saved = await this.repository.save(filter);
    await this.sync.filterChanged(saved);
    return saved;
  }

  async update(id: string, input: EventFiltersUpdateInput): Promise<EventFilterEntity> {
    const filter = await this.find(id);
    if (input.name != null) filter.name = parseName(input.name);
    Object.assign(filter, parseConditions(input.in, filter));
    if (input.endpointIds != null) filter.endpoints = await this.existingEndpoints(input.endpointIds);
    // A change of endpoints alone does not touch the row; lastModified must move all the same.
    filter.lastModified = new Date();
    const saved = await this.repository.save(filter);
    await this.sync.filterChanged(saved);
    return saved;
  }

  async delete(id: string): Promise<boolean> {
    const filter = await this.find(id);
    await this.repository.delete({ id: filter.id });
    await this.sync.filterRemoved(filter.id);
    return true;
  }

  async list(
    filters: EventFilterFilters | undefined,
    order: EventFilterOrder | undefined,
    pagination: Pagination | undefined,
  ): Promise<{ totalCount: number; collectionItems: EventFilterEntity[] }> {
    const where: FindOptionsWhere<EventFilterEntity> = {};
    const ids = idsOf('filters.id', filters?.id);
    if (ids) where.id = In(ids);
    const { offset, limit } = pageOf(pagination);
    const direction = order?.lastModified ?? order?.creationDate ?? SortDirection.ASC;
    const sort: FindOptionsOrder<EventFilterEntity> = order?.lastModified
      ? { lastModified: direction, id: direction }
      : { creationDate: direction, id: direction };
    const [collectionItems, totalCount] = await this.repository.findAndCount({
      where,
      relations: { endpoints: true },
      order: sort,
      skip: offset,
      take: limit,
    });
    return { totalCount, collectionItems };
  }

  private async existingEndpoints(ids: string[]): Promise<EndpointEntity[]> {
    const wanted = parseEndpointIds(ids);
    if (wanted.length === 0) return [];
    const found = await this.dataSource.getRepository(EndpointEntity).findBy({ id: In(wanted) });
    const missing = wanted.filter((id) => !found.some((endpoint) => endpoint.id === id));
    if (missing.length > 0) throw ApiError.badInput('endpointIds', `unknown endpoint ids: ${missing.join(', ')}`);
    return found;
  }

  private async find(id: string): Promise<EventFilterEntity> {
    assertUuid('id', id);
    const filter = await this.repository.findOne({ where: { id }, relations: { endpoints: true } });
    if (!filter) throw new ApiError('NOT_FOUND', `no event filter has id ${id}`, 'id');
    return filter;
  }
}
