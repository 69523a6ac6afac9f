import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { idKey } from '@app/events';
import { AgentEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { AgentCredentials } from './agent-credentials.js';
import type { CreateAgentArgs, IssuedAgentCredentialsModel } from './agent.model.js';

/**
 * Makes an agent and issues its credentials: an AGENT token bound to it and,
 * in operator mode, a NATS user that may publish its own subject only. The
 * answer is the only time either is shown. An agent id is made once: a
 * revoked agent stays revoked (its events' history keeps its id).
 */
@Injectable()
export class CreateAgent {
  constructor(
    private readonly dataSource: DataSource,
    private readonly credentials: AgentCredentials,
  ) {}

  async execute({ agentId: rawId, name }: CreateAgentArgs): Promise<IssuedAgentCredentialsModel> {
    const id = idKey(rawId);
    const repository = this.dataSource.getRepository(AgentEntity);
    const inserted = await repository.createQueryBuilder().insert().values({ id, name, userKey: null, tokenId: null, credentialsIssuedAt: null, revokedAt: null }).orIgnore().execute();
    if ((inserted.raw as unknown[]).length === 0) {
      throw ApiError.badInput('agentId', `agent ${id} exists already (rotateAgentCredentials issues it new credentials)`);
    }
    let issue;
    try {
      issue = await this.credentials.issue(id, name);
    } catch (error) {
      // Nothing was shown: the agent goes again, and may be created once the issuer answers.
      await repository.delete({ id }).catch(() => undefined);
      throw error;
    }
    // Only onto the row this call made: a rotation or revocation that came in between wins, and these go again.
    const recorded = await repository
      .createQueryBuilder()
      .update()
      .set({ userKey: issue.userKey, tokenId: issue.tokenId, credentialsIssuedAt: () => 'now()' })
      .where('id = :id AND token_id IS NULL AND revoked_at IS NULL', { id })
      .execute();
    if (recorded.affected !== 1) {
      await this.credentials.revoke(id, { userKey: issue.userKey, tokenId: issue.tokenId }).catch(() => undefined);
      throw new ApiError('UNAVAILABLE', `agent ${id} was changed while it was made (rotated or revoked meanwhile); list the agents and retry`);
    }
    return this.credentials.issued(await repository.findOneByOrFail({ id }), issue);
  }
}
