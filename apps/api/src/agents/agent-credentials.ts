import { Inject, Injectable } from '@nestjs/common';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import { askAgentActivity, agentInboxPrefix, NatsClient, TokenScope, type IssuedCredentials, type IssuerReply } from '@app/messaging';
import type { AgentEntity } from '@app/persistence';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import { CreateApiToken } from '../api-tokens/create-api-token.usecase.js';
import { RevokeApiToken } from '../api-tokens/revoke-api-token.usecase.js';
import { ApiError } from '../graphql/api.error.js';
import type { AgentModel, IssuedAgentCredentialsModel } from './agent.model.js';

/** How long the issuer may take to sign credentials, and to revoke them (it waits until the server has closed their connections). */
const ISSUE_TIMEOUT_MS = 10_000;
const REVOKE_TIMEOUT_MS = 30_000;

/** What an agent is issued at once: an AGENT token and, in operator mode, NATS credentials. */
export interface AgentIssue {
  token: string;
  tokenId: string;
  natsCredentials: string | null;
  userKey: string | null;
}

/**
 * An agent's credentials: its AGENT token (made and revoked as any named
 * token) and, with AGENT_CREDENTIALS=nats, its NATS user, which the
 * credentials issuer (apps/credentials-issuer) signs and revokes. The api
 * holds no NATS key: it asks.
 */
@Injectable()
export class AgentCredentials {
  constructor(
    private readonly nats: NatsClient,
    private readonly createToken: CreateApiToken,
    private readonly revokeToken: RevokeApiToken,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  get issuesNatsCredentials(): boolean {
    return this.config.AGENT_CREDENTIALS === 'nats';
  }

  /**
   * New credentials: the NATS user first (a user signed but never shown is
   * harmless), then the token (made only once the user is).
   */
  async issue(agentId: string, name: string): Promise<AgentIssue> {
    const nats = this.issuesNatsCredentials ? await this.ask<IssuedCredentials>('issue', { agentId, name }, ISSUE_TIMEOUT_MS) : null;
    const { token, apiToken } = await this.createToken.execute({ name: `agent ${name}`, scope: TokenScope.AGENT, agentIds: [agentId] });
    return { token, tokenId: apiToken.id, natsCredentials: nats?.creds ?? null, userKey: nats?.userKey ?? null };
  }

  /**
   * Revokes the token (refused by every api and ingest replica) and the NATS
   * user (refused by the servers, its connections closed), each tried even
   * when the other fails. The caller has recorded the user key in the
   * agent's revoked_keys first: a NATS revocation that fails here is made
   * again by AgentRevocations, a token's stands once it is asked.
   */
  async revoke(agentId: string, { userKey, tokenId }: { userKey: string | null; tokenId: string | null }): Promise<void> {
    const failures: unknown[] = [];
    if (tokenId) await this.revokeToken.execute(tokenId).catch((error: unknown) => failures.push(error));
    if (userKey) await this.revokeKeys([userKey], agentId).catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  }

  /** Asks the issuer to hold these NATS users revoked (those already are cost it one lookup). */
  async revokeKeys(userKeys: string[], agentId?: string): Promise<void> {
    if (!this.issuesNatsCredentials) throw new ApiError('UNAVAILABLE', 'NATS credentials were issued, but AGENT_CREDENTIALS is not nats: no issuer is asked to revoke them');
    await this.ask('revoke', { ...(agentId ? { agentId } : {}), userKeys }, REVOKE_TIMEOUT_MS);
  }

  private async ask<T extends object>(verb: 'issue' | 'revoke', request: object, timeout: number): Promise<T> {
    let reply: IssuerReply<T>;
    try {
      const message = await this.nats.connection.request(this.nats.topology.agentCredentials(verb), JSON.stringify(request), { timeout });
      reply = message.json<IssuerReply<T>>();
    } catch (error) {
      const cause = error instanceof RequestError ? (error.cause ?? error) : error;
      if (cause instanceof NoRespondersError) throw new ApiError('UNAVAILABLE', 'no credentials issuer answers (apps/credentials-issuer: operator mode, docs/operations.md); retry once it runs');
      if (cause instanceof TimeoutError) throw new ApiError('UNAVAILABLE', `the credentials issuer did not answer within ${timeout} ms; retry`);
      throw error;
    }
    if (!reply.ok) throw new ApiError('UNAVAILABLE', `the credentials issuer refused: ${reply.error}`);
    return reply;
  }

  /** The agents as the API shows them, with what ingest accepted of each lately. */
  async models(agents: AgentEntity[]): Promise<AgentModel[]> {
    const figures = await askAgentActivity(this.nats, agents.map((agent) => agent.id));
    return agents.map((agent) => {
      const activity = figures.get(agent.id);
      return {
        id: agent.id,
        name: agent.name,
        createdAt: agent.creationDate,
        credentialsIssuedAt: agent.credentialsIssuedAt,
        natsUserKey: agent.userKey,
        revokedAt: agent.revokedAt,
        lastEventAt: activity?.lastEventAt ? new Date(activity.lastEventAt) : null,
        eventsLastMinute: activity?.lastMinute ?? 0,
      };
    });
  }

  async issued(agent: AgentEntity, issue: AgentIssue): Promise<IssuedAgentCredentialsModel> {
    return {
      agent: (await this.models([agent]))[0]!,
      token: issue.token,
      natsCredentials: issue.natsCredentials,
      natsSubject: this.nats.topology.agentEvents(agent.id),
      natsInboxPrefix: agentInboxPrefix(agent.id),
    };
  }
}
