import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiTokenEntity } from '@app/persistence';
import { ConfigSync } from '../config-sync.js';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';

/**
 * Revokes a named token: refused by every api, ingest and gateway replica
 * once this returns; UNAVAILABLE while a replica has not applied it (the
 * revocation stands; revoking again confirms it, and changes nothing else).
 */
@Injectable()
export class RevokeApiToken {
  constructor(
    private readonly dataSource: DataSource,
    private readonly configSync: ConfigSync,
  ) {}

  async execute(rawId: string): Promise<ApiTokenEntity> {
    const id = parseUuid('id', rawId);
    const repository = this.dataSource.getRepository(ApiTokenEntity);
    await repository.createQueryBuilder().update().set({ revokedAt: () => 'now()' }).where('id = :id AND revoked_at IS NULL', { id }).execute();
    const token = await repository.findOneBy({ id });
    if (!token) throw new ApiError('NOT_FOUND', `no API token has id ${rawId}`, 'id');
    await this.configSync.tokenChanged(id, { strict: true });
    return token;
  }
}
