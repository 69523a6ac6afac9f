import { UseGuards } from '@nestjs/common';
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Pagination } from '../graphql/collection.model.js';
import { TokenGuard, WholeInstallation } from '../graphql/token.guard.js';
import { AgentCollection, AgentIdArgs, AgentModel, CreateAgentArgs, IssuedAgentCredentialsModel } from './agent.model.js';
import { CreateAgent } from './create-agent.usecase.js';
import { ListAgents } from './list-agents.usecase.js';
import { RevokeAgent } from './revoke-agent.usecase.js';
import { RotateAgentCredentials } from './rotate-agent-credentials.usecase.js';

@Resolver(() => AgentModel)
@UseGuards(TokenGuard)
export class AgentsResolver {
  constructor(
    private readonly list: ListAgents,
    private readonly create: CreateAgent,
    private readonly rotate: RotateAgentCredentials,
    private readonly revoke: RevokeAgent,
  ) {}

  @Query(() => AgentCollection, { description: 'The agents made through this API, newest first, revoked ones included (not to a token scoped to endpoints).' })
  @WholeInstallation()
  agents(@Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination) {
    return this.list.execute(pagination);
  }

  @Mutation(() => IssuedAgentCredentialsModel, {
    description: 'Makes an agent: an AGENT token bound to it and, in NATS operator mode, its NATS credentials, shown this once. Accepted everywhere once this returns.',
  })
  createAgent(@Args() args: CreateAgentArgs) {
    return this.create.execute(args);
  }

  @Mutation(() => IssuedAgentCredentialsModel, { description: 'Issues an agent new credentials, shown this once; the old ones are refused once this returns.' })
  rotateAgentCredentials(@Args() { agentId }: AgentIdArgs) {
    return this.rotate.execute(agentId);
  }

  @Mutation(() => AgentModel, {
    description: "Revokes an agent: once this returns, NATS refuses its credentials and has closed its connections, and ingest refuses its token.",
  })
  revokeAgent(@Args() { agentId }: AgentIdArgs) {
    return this.revoke.execute(agentId);
  }
}
