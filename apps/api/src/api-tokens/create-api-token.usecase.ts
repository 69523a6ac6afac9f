import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { hashToken, TokenScope } from '@app/messaging';
import { ApiTokenEntity } from '@app/persistence';
import { ConfigSync } from '../config-sync.js';
import { ApiError } from '../graphql/api.error.js';

const MAX_NAME_LENGTH = 200;
const MAX_AGENT_IDS = 1_000;
const MAX_AGENT_ID_LENGTH = 256;

export interface NewApiToken {
  name: string;
  scope: TokenScope;
  agentIds?: string[] | null;
}

/**
 * Makes a named token: 32 random bytes, of which only the SHA-256 is kept.
 * Returns once every api and ingest replica accepts it.
 */
@Injectable()
export class CreateApiToken {
  constructor(
    private readonly dataSource: DataSource,
    private readonly configSync: ConfigSync,
  ) {}

  async execute(input: NewApiToken): Promise<{ apiToken: ApiTokenEntity; token: string }> {
    const name = input.name.trim();
    if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw ApiError.badInput('name', `must be 1 to ${MAX_NAME_LENGTH} characters`);
    const agentIds = input.agentIds ?? [];
    if (agentIds.length > 0 && input.scope !== TokenScope.AGENT) throw ApiError.badInput('agentIds', 'only an AGENT token is bound to agents');
    if (agentIds.length > MAX_AGENT_IDS) throw ApiError.badInput('agentIds', `at most ${MAX_AGENT_IDS} agents`);
    for (const [index, agentId] of agentIds.entries()) {
      if (agentId.length === 0 || agentId.length > MAX_AGENT_ID_LENGTH) throw ApiError.badInput(`agentIds.${index}`, `must be 1 to ${MAX_AGENT_ID_LENGTH} characters`);
    }
    const token = `est_${randomBytes(32).toString('base64url')}`;
    const repository = this.dataSource.getRepository(ApiTokenEntity);
    const saved = await repository.save(repository.create({ id: randomUUID(), name, scope: input.scope, agentIds: [...new Set(agentIds)], tokenHash: hashToken(token), revokedAt: null }));
    const apiToken = await repository.findOneByOrFail({ id: saved.id });
    await this.configSync.tokenChanged(apiToken.id);
    return { apiToken, token };
  }
}
