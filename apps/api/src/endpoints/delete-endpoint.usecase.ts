import { EndpointType } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { EndpointEntity, EventFilterEntity } from '@app/persistence';
import { ConfigSync } from '../config-sync.js';
import { EndpointRegistry } from './endpoint-registry.js';

/** Deletes the endpoint and detaches it from its filters, which stay. */
@Injectable()
export class DeleteEndpoint {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: EndpointRegistry,
    private readonly sync: ConfigSync,
  ) {}

  async execute(id: string): Promise<boolean> {
    const endpoint = await this.registry.find(id);
    const filterIds = (await this.registry.filtersOf(endpoint.id)).map((filter) => filter.id);
    await this.dataSource.getRepository(EndpointEntity).delete({ id: endpoint.id });
    const detached =
      filterIds.length > 0 ? await this.dataSource.getRepository(EventFilterEntity).find({ where: { id: In(filterIds) }, relations: { endpoints: true } }) : [];
    const revision = await this.sync.endpointRemoved(endpoint.id, detached);
    // Nothing more is sent to a deleted webhook once this returns.
    if (endpoint.type === EndpointType.WEB_HOOK && revision !== null) await this.sync.dispatchersApplied(revision);
    return true;
  }
}
