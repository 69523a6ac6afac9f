import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { idKey } from '@app/events';
import { hashToken, TokenScope } from '@app/messaging';
import { ApiTokenEntity } from '@app/persistence';
import { ConfigSync } from '../config-sync.js';
import { EndpointRegistry } from '../endpoints/endpoint-registry.js';
import { ApiError } from '../graphql/api.error.js';

export interface NewApiToken {
  name: string;
  scope: TokenScope;
  agentIds?: string[] | null;
  endpointIds?: string[] | null;
}

/**
 * Makes a named token: 32 random bytes, of which only the SHA-256 is kept.
 * Returns once every api, ingest and gateway replica accepts it.
 */
@Injectable()
export class CreateApiToken {
  constructor(
    private readonly dataSource: DataSource,
    private readonly configSync: ConfigSync,
    private readonly endpoints: EndpointRegistry,
  ) {}

  /** The name and ids are checked by the rules of CreateApiTokenArgs; the endpoints must exist. */
  async execute(input: NewApiToken): Promise<{ apiToken: ApiTokenEntity; token: string }> {
    const agentIds = [...new Set((input.agentIds ?? []).map(idKey))];
    if (agentIds.length > 0 && input.scope !== TokenScope.AGENT) throw ApiError.badInput('agentIds', 'only an AGENT token is bound to agents');
    // An agent may be taken over: its token speaks for the agents named here and no others (the bootstrap API_TOKEN is the operator's).
    if (agentIds.length === 0 && input.scope === TokenScope.AGENT) throw ApiError.badInput('agentIds', 'an AGENT token is bound to at least one agent id');
    const endpointIds = await this.endpointsOf(input);
    const token = `est_${randomBytes(32).toString('base64url')}`;
    const repository = this.dataSource.getRepository(ApiTokenEntity);
    const saved = await repository.save(repository.create({ id: randomUUID(), name: input.name, scope: input.scope, agentIds, endpointIds, tokenHash: hashToken(token), revokedAt: null }));
    const apiToken = await repository.findOneByOrFail({ id: saved.id });
    try {
      await this.configSync.tokenChanged(apiToken.id);
    } catch (error) {
      // Not shown, so never usable: the token goes again rather than linger unknown to anyone.
      await repository.delete({ id: apiToken.id }).catch(() => undefined);
      throw error;
    }
    return { apiToken, token };
  }

  /** A READ_ONLY token's endpoints (null: every endpoint); an empty list would read nothing, so it is refused. */
  private async endpointsOf(input: NewApiToken): Promise<string[] | null> {
    if (input.endpointIds == null) return null;
    if (input.scope !== TokenScope.READ_ONLY) throw ApiError.badInput('endpointIds', 'only a READ_ONLY token is scoped to endpoints');
    if (input.endpointIds.length === 0) throw ApiError.badInput('endpointIds', 'a scoped token names at least one endpoint (omit endpointIds for every endpoint)');
    return (await this.endpoints.existing(input.endpointIds)).map((endpoint) => endpoint.id);
  }
}
