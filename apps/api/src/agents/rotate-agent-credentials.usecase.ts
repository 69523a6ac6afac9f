import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AgentEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';
import { AgentCredentials } from './agent-credentials.js';
import type { IssuedAgentCredentialsModel } from './agent.model.js';

/**
 * Issues an agent new credentials and revokes the ones it had: the new ones
 * are made first, so an agent is never left without any; the old token and
 * NATS user are refused once this returns.
 */
@Injectable()
export class RotateAgentCredentials {
  constructor(
    private readonly dataSource: DataSource,
    private readonly credentials: AgentCredentials,
  ) {}

  async execute(rawId: string): Promise<IssuedAgentCredentialsModel> {
    const id = parseUuid('agentId', rawId);
    const repository = this.dataSource.getRepository(AgentEntity);
    const agent = await repository.findOneBy({ id });
    if (!agent) throw new ApiError('NOT_FOUND', `no agent has id ${rawId}`, 'agentId');
    if (agent.revokedAt) throw ApiError.badInput('agentId', `agent ${id} was revoked: a revoked agent gets no credentials again`);
    const issue = await this.credentials.issue(id, agent.name);
    const previous = { userKey: agent.userKey, tokenId: agent.tokenId };
    await repository
      .createQueryBuilder()
      .update()
      .set({
        userKey: issue.userKey,
        tokenId: issue.tokenId,
        credentialsIssuedAt: () => 'now()',
        ...(previous.userKey ? { revokedKeys: () => 'array_append(revoked_keys, :previous)' } : {}),
      })
      .where('id = :id', { id, previous: previous.userKey })
      .execute();
    await this.credentials.revoke(id, previous);
    return this.credentials.issued(await repository.findOneByOrFail({ id }), issue);
  }
}
