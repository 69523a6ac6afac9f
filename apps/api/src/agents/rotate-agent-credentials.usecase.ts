import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AgentEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';
import { AgentCredentials, type AgentIssue } from './agent-credentials.js';
import type { IssuedAgentCredentialsModel } from './agent.model.js';

/**
 * Issues an agent new credentials and revokes the ones it had: the new ones
 * are made first, so an agent is never left without any; the old token and
 * NATS user are refused once this returns. The agent's row is locked from
 * the read to the record of the new credentials, so that rotations and
 * revocations of one agent follow one another; the old user key is recorded
 * as revoked with them. Should revoking the old credentials fail, the answer
 * is an error (the new credentials are not shown: rotating again revokes
 * them), and AgentRevocations revokes the old NATS user later.
 */
@Injectable()
export class RotateAgentCredentials {
  constructor(
    private readonly dataSource: DataSource,
    private readonly credentials: AgentCredentials,
  ) {}

  async execute(rawId: string): Promise<IssuedAgentCredentialsModel> {
    const id = parseUuid('agentId', rawId);
    const { issue, previous } = await this.dataSource.transaction(async (manager) => {
      const repository = manager.getRepository(AgentEntity);
      const agent = await repository.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!agent) throw new ApiError('NOT_FOUND', `no agent has id ${rawId}`, 'agentId');
      if (agent.revokedAt) throw ApiError.badInput('agentId', `agent ${id} was revoked: a revoked agent gets no credentials again`);
      const issued: AgentIssue = await this.credentials.issue(id, agent.name);
      await repository
        .createQueryBuilder()
        .update()
        .set({
          userKey: issued.userKey,
          tokenId: issued.tokenId,
          credentialsIssuedAt: () => 'now()',
          ...(agent.userKey ? { revokedKeys: () => 'array_append(revoked_keys, :previous)' } : {}),
        })
        .where('id = :id', { id, previous: agent.userKey })
        .execute();
      return { issue: issued, previous: { userKey: agent.userKey, tokenId: agent.tokenId } };
    });
    await this.credentials.revoke(id, previous);
    return this.credentials.issued(await this.dataSource.getRepository(AgentEntity).findOneByOrFail({ id }), issue);
  }
}
