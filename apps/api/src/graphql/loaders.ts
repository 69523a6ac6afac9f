import DataLoader from 'dataloader';
import { DataSource, In } from 'typeorm';
import { EventFilterEntity } from '@app/persistence';

/**
 * Per-request batching of the fields nested under lists: an endpoint's
 * filters are read for every endpoint of the page in one query, not one per
 * endpoint (no N+1 queries).
 */
export class ApiLoaders {
  readonly filtersOf: DataLoader<string, EventFilterEntity[]>;

  constructor(dataSource: DataSource) {
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
