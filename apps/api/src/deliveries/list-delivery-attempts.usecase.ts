import { Injectable } from '@nestjs/common';
import { And, DataSource, In, LessThan, LessThanOrEqual, MoreThan, MoreThanOrEqual, type FindOperator, type FindOptionsWhere } from 'typeorm';
import { DeliveryAttemptEntity } from '@app/persistence';
import { emptyPage, idsOf, pageOf, SortDirection, type Pagination } from '../graphql/collection.model.js';
import { withinReach } from '../graphql/endpoint-reach.js';
import type { DateFilter, DeliveryAttemptFilters, DeliveryAttemptOrder } from './delivery.model.js';

/** The delivery log of the endpoints within reach: attempts per endpoint and per event, newest first unless ordered otherwise. */
@Injectable()
export class ListDeliveryAttempts {
  constructor(private readonly dataSource: DataSource) {}

  async execute(
    reach: readonly string[] | null,
    filters: DeliveryAttemptFilters | undefined,
    order: DeliveryAttemptOrder | undefined,
    pagination: Pagination | undefined,
  ): Promise<{ totalCount: number; collectionItems: DeliveryAttemptEntity[] }> {
    const where: FindOptionsWhere<DeliveryAttemptEntity> = {};
    const endpointIds = withinReach(idsOf(filters?.endpointId), reach);
    if (endpointIds?.length === 0) return emptyPage();
    if (endpointIds) where.endpointId = In(endpointIds);
    const eventIds = idsOf(filters?.eventId);
    if (eventIds) where.eventId = In(eventIds);
    const outcome = filters?.outcome?.exact;
    if (outcome != null) where.outcome = outcome;
    const range = dateRange(filters?.attemptedAt);
    if (range) where.attemptedAt = range;
    const { offset, limit } = pageOf(pagination);
    const direction = order?.attemptedAt ?? SortDirection.DESC;
    const [collectionItems, totalCount] = await this.dataSource.getRepository(DeliveryAttemptEntity).findAndCount({
      where,
      order: { attemptedAt: direction, id: direction },
      skip: offset,
      take: limit,
    });
    return { totalCount, collectionItems };
  }
}

function dateRange(filter: DateFilter | undefined): FindOperator<Date> | null {
  if (!filter) return null;
  const bounds: Array<FindOperator<Date>> = [];
  if (filter.gt) bounds.push(MoreThan(filter.gt));
  if (filter.gte) bounds.push(MoreThanOrEqual(filter.gte));
  if (filter.lt) bounds.push(LessThan(filter.lt));
  if (filter.lte) bounds.push(LessThanOrEqual(filter.lte));
  return bounds.length === 0 ? null : bounds.length === 1 ? bounds[0]! : And(...bounds);
}
