import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { EventFilterEntity } from '@app/persistence';
import { CountDeliveryOutcomes, type DeliveryOutcomeBucket } from '../deliveries/count-delivery-outcomes.usecase.js';

/** A webhook endpoint's delivery outcomes over its last `hours` hours. */
export interface OutcomesKey {
  endpointId: string;
  hours: number;
}

/**
 * Per-request batching of the fields nested under lists: an endpoint's
 * filters are read for every endpoint of the page in one query, not one per
 * endpoint (no N+1 queries); so are their delivery outcomes (one query per
 * `hours` asked, which a page asks once).
 */
export class ApiLoaders {
  readonly filtersOf: DataLoader<string, EventFilterEntity[]>;
  readonly outcomesOf: DataLoader<OutcomesKey, DeliveryOutcomeBucket[], string>;

  constructor(dataSource: DataSource) {
    const outcomes = new CountDeliveryOutcomes(dataSource);
    this.outcomesOf = new DataLoader(
      async (keys) => {
        const byHours = new Map<number, string[]>();
        for (const { endpointId, hours } of keys) byHours.set(hours, [...(byHours.get(hours) ?? []), endpointId]);
        const counted = new Map<number, Map<string, DeliveryOutcomeBucket[]>>();
        for (const [hours, endpointIds] of byHours) counted.set(hours, await outcomes.execute(endpointIds, hours));
        return keys.map(({ endpointId, hours }) => counted.get(hours)!.get(endpointId)!);
      },
      { cacheKeyFn: ({ endpointId, hours }) => `${hours}:${endpointId}` },
    );
    this.filtersOf = new DataLoader(async (endpointIds) => {
      const links = await dataSource
        .getRepository(EventFilterEntity)
        .createQueryBuilder('filter')
        .innerJoin('filter.endpoints', 'endpoint', 'endpoint.id IN (:...endpointIds)', { endpointIds: [...endpointIds] })
        .select(['filter.id AS filter_id', 'endpoint.id AS endpoint_id'])
        .getRawMany<{ filter_id: string; endpoint_id: string }>();
      const filters =
        links.length === 0
          ? []
          : await dataSource.getRepository(EventFilterEntity).find({
              where: { id: In([...new Set(links.map((link) => link.filter_id))]) },
              relations: { endpoints: true },
              order: { creationDate: 'ASC', id: 'ASC' },
            });
      return endpointIds.map((endpointId) => {
        const mine = new Set(links.filter((link) => link.endpoint_id === endpointId).map((link) => link.filter_id));
        return filters.filter((filter) => mine.has(filter.id));
      });
    });
  }
}

/** The GraphQL context every resolver gets. */
export interface ApiContext {
  req: import('express').Request;
  loaders: ApiLoaders;
}
