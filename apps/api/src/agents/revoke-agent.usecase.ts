import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AgentEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';
import { AgentCredentials } from './agent-credentials.js';
import type { AgentModel } from './agent.model.js';

/**
 * Revokes an agent: its token (refused by every api and ingest replica) and
 * its NATS user (returns once the servers refuse it and have closed its
 * connections). The agent is marked revoked and its user key recorded first,
 * under its row's lock (a rotation in flight finishes before, or finds it
 * revoked); then both are revoked. Should that fail, the answer is an error,
 * the revocation stands (the token's is recorded, AgentRevocations makes the
 * NATS one), and revoking again confirms it.
 */
@Injectable()
export class RevokeAgent {
  constructor(
    private readonly dataSource: DataSource,
    private readonly credentials: AgentCredentials,
  ) {}

  async execute(rawId: string): Promise<AgentModel> {
    const id = parseUuid('agentId', rawId);
    const agent = await this.dataSource.transaction(async (manager) => {
      const repository = manager.getRepository(AgentEntity);
      const locked = await repository.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!locked) throw new ApiError('NOT_FOUND', `no agent has id ${rawId}`, 'agentId');
      await repository
        .createQueryBuilder()
        .update()
        .set({
          revokedAt: () => 'COALESCE(revoked_at, now())',
          revokedKeys: () => 'CASE WHEN user_key IS NULL OR user_key = ANY(revoked_keys) THEN revoked_keys ELSE array_append(revoked_keys, user_key) END',
        })
        .where('id = :id', { id })
        .execute();
      return repository.findOneByOrFail({ id });
    });
    await this.credentials.revoke(id, { userKey: agent.userKey, tokenId: agent.tokenId });
    return (await this.credentials.models([agent]))[0]!;
  }
}
