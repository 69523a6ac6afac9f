import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AgentEntity } from '@app/persistence';
import { pageOf, type Pagination } from '../graphql/collection.model.js';
import { AgentCredentials } from './agent-credentials.js';
import type { AgentCollection } from './agent.model.js';

/** Lists the agents made through the API, newest first, revoked ones included, with what ingest accepted of each lately. */
@Injectable()
export class ListAgents {
  constructor(
    private readonly dataSource: DataSource,
    private readonly credentials: AgentCredentials,
  ) {}

  async execute(pagination: Pagination | undefined): Promise<AgentCollection> {
    const { offset, limit } = pageOf(pagination);
    const [agents, totalCount] = await this.dataSource.getRepository(AgentEntity).findAndCount({ order: { creationDate: 'DESC', id: 'DESC' }, skip: offset, take: limit });
    return { totalCount, collectionItems: await this.credentials.models(agents) };
  }
}
