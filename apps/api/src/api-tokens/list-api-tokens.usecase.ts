import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiTokenEntity } from '@app/persistence';
import { pageOf, type Pagination } from '../graphql/collection.model.js';
import type { ApiTokenCollection } from './api-token.model.js';

/** Lists named tokens, newest first, revoked ones included (never the tokens themselves). */
@Injectable()
export class ListApiTokens {
  constructor(private readonly dataSource: DataSource) {}

  async execute(pagination: Pagination | undefined): Promise<ApiTokenCollection> {
    const { offset, limit } = pageOf(pagination);
    const [collectionItems, totalCount] = await this.dataSource
      .getRepository(ApiTokenEntity)
      .findAndCount({ order: { creationDate: 'DESC', id: 'DESC' }, skip: offset, take: limit });
    return { totalCount, collectionItems };
  }
}
