import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointEntity, retryOnConflict } from '@app/persistence';
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
    const filterIds = await this.registry.filterIdsOf(endpoint.id);
    await retryOnConflict(() => this.dataSource.getRepository(EndpointEntity).delete({ id: endpoint.id }));
    // The filters are published as PostgreSQL has them now (without it); nothing more is sent to a deleted webhook.
    await this.sync.endpointRemoved(endpoint, filterIds);
    return true;
  }
}
