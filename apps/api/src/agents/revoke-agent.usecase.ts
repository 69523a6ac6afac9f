import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AgentEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';
import { AgentCredentials } from './agent-credentials.js';
import type { AgentModel } from './agent.model.js';

/**
 * Revokes an agent: its NATS user (returns once the server refuses it and
 * has closed its connections) and its token (refused by every api and
 * ingest replica). Revoking again confirms it and changes nothing else.
 */
@Injectable()
export class RevokeAgent {
  constructor(
    private readonly dataSource: DataSource,
    private readonly credentials: AgentCredentials,
  ) {}

  async execute(rawId: string): Promise<AgentModel> {
    const id = parseUuid('agentId', rawId);
    const repository = this.dataSource.getRepository(AgentEntity);
    await repository
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()', revokedKeys: () => 'CASE WHEN user_key IS NULL THEN revoked_keys ELSE array_append(revoked_keys, user_key) END' })
      .where('id = :id AND revoked_at IS NULL', { id })
      .execute();
    const agent = await repository.findOneBy({ id });
    if (!agent) throw new ApiError('NOT_FOUND', `no agent has id ${rawId}`, 'agentId');
    // The keys stay recorded: revoking again asks again, and a revocation already made changes nothing.
    await this.credentials.revoke(id, { userKey: agent.userKey, tokenId: agent.tokenId });
    return (await this.credentials.models([agent]))[0]!;
  }
}
