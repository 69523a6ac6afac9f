import { Injectable } from '@nestjs/common';
import { DataSource, In, type FindOptionsWhere } from 'typeorm';
import { EndpointEntity } from '@app/persistence';
import { emptyPage, idsOf, pageOf, type Pagination } from '../graphql/collection.model.js';
import { withinReach } from '../graphql/endpoint-reach.js';
import type { EndpointFilters, EndpointOrder } from './endpoint.model.js';

/** A page of the endpoints within reach, oldest first unless ordered otherwise. */
@Injectable()
export class ListEndpoints {
  constructor(private readonly dataSource: DataSource) {}

  async execute(
    reach: readonly string[] | null,
    filters: EndpointFilters | undefined,
    order: EndpointOrder | undefined,
    pagination: Pagination | undefined,
  ): Promise<{ totalCount: number; collectionItems: EndpointEntity[] }> {
    const where: FindOptionsWhere<EndpointEntity> = {};
    const ids = withinReach(idsOf(filters?.id), reach);
    if (ids?.length === 0) return emptyPage();
    if (ids) where.id = In(ids);
    if (filters?.type?.exact) where.type = filters.type.exact;
    const { offset, limit } = pageOf(pagination);
    const direction = order?.creationDate ?? 'ASC';
    const [collectionItems, totalCount] = await this.dataSource.getRepository(EndpointEntity).findAndCount({
      where,
      order: { creationDate: direction, id: direction },
      skip: offset,
      take: limit,
    });
    return { totalCount, collectionItems };
  }
}
