import { Injectable } from '@nestjs/common';
import { DataSource, In, type FindOptionsOrder, type FindOptionsWhere } from 'typeorm';
import { EventFilterEntity } from '@app/persistence';
import { emptyPage, idsOf, pageOf, SortDirection, type Pagination } from '../graphql/collection.model.js';
import type { EventFilterFilters, EventFilterOrder } from './event-filter.model.js';

/**
 * A page of event filters with their endpoints: by creation date unless
 * ordered by lastModified, oldest first by default. Within a reach, only the
 * filters naming one of its endpoints, with those endpoints only.
 */
@Injectable()
export class ListEventFilters {
  constructor(private readonly dataSource: DataSource) {}

  async execute(
    reach: readonly string[] | null,
    filters: EventFilterFilters | undefined,
    order: EventFilterOrder | undefined,
    pagination: Pagination | undefined,
  ): Promise<{ totalCount: number; collectionItems: EventFilterEntity[] }> {
    const where: FindOptionsWhere<EventFilterEntity> = {};
    const ids = idsOf(filters?.id);
    if (ids) where.id = In(ids);
    if (reach?.length === 0) return emptyPage();
    if (reach) where.endpoints = { id: In([...reach]) };
    const { offset, limit } = pageOf(pagination);
    const direction = order?.lastModified ?? order?.creationDate ?? SortDirection.ASC;
    const sort: FindOptionsOrder<EventFilterEntity> = order?.lastModified
      ? { lastModified: direction, id: direction }
      : { creationDate: direction, id: direction };
    const [collectionItems, totalCount] = await this.dataSource.getRepository(EventFilterEntity).findAndCount({
      where,
      relations: { endpoints: true },
      order: sort,
      skip: offset,
      take: limit,
    });
    return { totalCount, collectionItems };
  }
}
