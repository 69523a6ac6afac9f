import { ArgsType, Field, GraphQLISODateTime, ID, Int, ObjectType } from '@nestjs/graphql';
import { IsName } from '../endpoints/endpoint-input.js';
import { IsId } from '../graphql/input-rules.js';

@ObjectType('Agent', { description: 'An agent made through this API: its AGENT token and, with NATS operator mode, its NATS credentials (shown once each).' })
export class AgentModel {
  @Field(() => ID, { description: 'The agent id its events carry (camera.agent_id).' })
  id!: string;

  @Field()
  name!: string;

  @Field(() => GraphQLISODateTime)
  createdAt!: Date;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When its current token (and NATS credentials) were issued.' })
  credentialsIssuedAt!: Date | null;

  @Field(() => String, { nullable: true, description: "The public key of its current NATS user (operator mode): what the server's connection list shows." })
  natsUserKey!: string | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When it was revoked: its token and NATS credentials are refused since.' })
  revokedAt!: Date | null;

  @Field(() => GraphQLISODateTime, { nullable: true, description: 'When ingest last accepted one of its events (since ingest started; over HTTP or NATS).' })
  lastEventAt!: Date | null;

  @Field(() => Int, { description: 'Events of it ingest accepted in the last minute (duplicates not counted).' })
  eventsLastMinute!: number;
}

@ObjectType('IssuedAgentCredentials', { description: 'What createAgent and rotateAgentCredentials issue: shown this once, kept nowhere.' })
export class IssuedAgentCredentialsModel {
  @Field(() => AgentModel)
  agent!: AgentModel;

  @Field({ description: 'An AGENT token bound to this agent alone, for POST /event-service/events (`Token: <token>`).' })
  token!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "The agent's NATS `.creds` file (a user JWT and its seed): it may publish on natsSubject and read its inbox (natsInboxPrefix) only. Null where NATS runs without operator mode (AGENT_CREDENTIALS=none).",
  })
  natsCredentials!: string | null;

  @Field({ description: 'The subject the agent publishes its events on.' })
  natsSubject!: string;

  @Field({ description: "The inbox prefix the agent's NATS client must use (the acks of its publishes come back there)." })
  natsInboxPrefix!: string;
}

@ArgsType()
export class CreateAgentArgs {
  @Field(() => ID, { description: 'The agent id its events will carry (camera.agent_id).' })
  @IsId()
  agentId!: string;

  @Field()
  @IsName()
  name!: string;
}

@ArgsType()
export class AgentIdArgs {
  @Field(() => ID)
  @IsId()
  agentId!: string;
}

@ObjectType('AgentCollection')
export class AgentCollection {
  @Field(() => Int)
  totalCount!: number;

  @Field(() => [AgentModel])
  collectionItems!: AgentModel[];
}
