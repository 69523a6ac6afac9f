import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { fromSeed } from '@nats-io/nkeys';
import { connect, credsAuthenticator, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  AgentCredentialsIssuer,
  authOptions,
  ISSUER_FILES,
  natsSettings,
  Topology,
  type IssueRequest,
  type IssuerReply,
  type OperatorAccounts,
  type RevokeRequest,
} from '@app/messaging';
import { HealthServer, RuntimeModule } from '@app/runtime';
import type { IssuerConfig } from './issuer.config.js';

const ISSUER_CONFIG = Symbol('ISSUER_CONFIG');
/** An agent id as its subject carries it: lower case, so that no wildcard or other spelling names another subject. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USER_KEY = /^U[A-Z2-7]{55}$/;
/** The api's limit on names (endpoint-input.ts), and on keys per revoke request (AgentRevocations). */
const MAX_NAME_LENGTH = 200;
const MAX_REVOKED_AT_ONCE = 1_000;

/**
 * Answers the api's requests for agents' NATS credentials (operator mode):
 * `<p>.issuer.agents.issue` signs a new user JWT with the agents account's
 * signing key; `<p>.issuer.agents.revoke` re-signs the agents account with
 * the keys revoked (the operator's signing key) and pushes it through its
 * system-account user, and answers once no revoked connection is open. Only
 * the api may send these requests (its grant; this user may only receive them
 * and answer). This process holds the keys so that the api, which faces the
 * internet, holds none.
 */
@Injectable()
class CredentialsResponder implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('CredentialsIssuer');
  private readonly connections: NatsConnection[] = [];
  private readonly subscriptions: Subscription[] = [];
  private served = { issued: 0, revoked: 0, failed: 0 };

  constructor(
    @Inject(ISSUER_CONFIG) private readonly config: IssuerConfig,
    private readonly health: HealthServer,
  ) {}

  async onModuleInit(): Promise<void> {
    const dir = this.config.ISSUER_KEYS_DIR;
    const read = (file: string) => readFileSync(join(dir, file));
    const seed = (file: string) => fromSeed(new TextEncoder().encode(read(file).toString('utf8').trim()));
    const accounts = JSON.parse(read(ISSUER_FILES.accounts).toString('utf8')) as OperatorAccounts;
    const agentsAccount = accounts.accounts.AGENTS;
    if (!agentsAccount) throw new Error(`${join(dir, ISSUER_FILES.accounts)} names no AGENTS account`);
    const settings = natsSettings(this.config, 'credentials-issuer');
    const servers = settings.url.split(',').map((server) => server.trim());
    const common = { servers, waitOnFirstConnect: true, maxReconnectAttempts: -1, reconnectTimeWait: 500 };
    const service = await connect({ ...authOptions(settings.auth), ...common, name: 'credentials-issuer', inboxPrefix: settings.inboxPrefix });
    this.connections.push(service);
    const tls = authOptions({ tls: settings.auth?.tls ?? {} }).tls;
    const system = await connect({ ...common, ...(tls ? { tls } : {}), name: 'credentials-issuer-system', authenticator: credsAuthenticator(read(ISSUER_FILES.systemCreds)) });
    this.connections.push(system);
    const topology = new Topology(settings.prefix);
    const issuer = new AgentCredentialsIssuer(topology, agentsAccount, seed(ISSUER_FILES.agentsSigningKey), seed(ISSUER_FILES.operatorSigningKey), system);
    this.serve(service, topology.agentCredentials('issue'), async (request: IssueRequest) => {
      if (typeof request.agentId !== 'string' || !UUID.test(request.agentId)) throw new Error('agentId must be a lower-case UUID');
      if (typeof request.name !== 'string' || request.name.length > MAX_NAME_LENGTH) throw new Error(`name must be a string of at most ${MAX_NAME_LENGTH} characters`);
      const issued = await issuer.issue({ agentId: request.agentId, name: request.name });
      this.served.issued += 1;
      this.logger.log(`issued credentials of agent ${request.agentId} (user ${issued.userKey})`);
      return issued;
    });
    this.serve(service, topology.agentCredentials('revoke'), async (request: RevokeRequest) => {
      if (request.agentId !== undefined && (typeof request.agentId !== 'string' || !UUID.test(request.agentId))) throw new Error('agentId must be a lower-case UUID');
      if (!Array.isArray(request.userKeys) || request.userKeys.length === 0 || request.userKeys.length > MAX_REVOKED_AT_ONCE) {
        throw new Error(`userKeys must list 1 to ${MAX_REVOKED_AT_ONCE} user public keys`);
      }
      if (request.userKeys.some((key) => typeof key !== 'string' || !USER_KEY.test(key))) throw new Error('userKeys must be user public keys (U…)');
      await issuer.revoke(request.userKeys);
      this.served.revoked += request.userKeys.length;
      this.logger.log(`revoked ${request.userKeys.length} key(s)${request.agentId ? ` of agent ${request.agentId}` : ''}`);
      return {};
    });
    this.health.addCheck('nats', () => !service.isClosed() && !system.isClosed());
    this.health.addStatus(() => ({ credentials: this.served }));
    this.logger.log(`issuing agents' credentials of account ${agentsAccount}`);
  }

  private serve<T>(connection: NatsConnection, subject: string, handle: (request: T) => Promise<object>): void {
    const subscription = connection.subscribe(subject, {
      queue: 'credentials-issuer',
      callback: (error, message: Msg) => {
        if (error) return void this.logger.error(`${subject}: ${error.message}`);
        void this.answer(message, handle);
      },
    });
    this.subscriptions.push(subscription);
  }

  private async answer<T>(message: Msg, handle: (request: T) => Promise<object>): Promise<void> {
    let reply: IssuerReply<object>;
    try {
      reply = { ok: true, ...(await handle(message.json<T>())) };
    } catch (error) {
      this.served.failed += 1;
      this.logger.warn(`${message.subject}: ${(error as Error).message}`);
      reply = { ok: false, error: (error as Error).message };
    }
    message.respond(JSON.stringify(reply));
  }

  async onApplicationShutdown(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    await Promise.all(this.connections.map((connection) => connection.drain().catch(() => undefined)));
  }
}

@Module({})
export class IssuerModule {
  static forRoot(config: IssuerConfig): DynamicModule {
    return {
      module: IssuerModule,
      imports: [RuntimeModule.forRoot('credentials-issuer', config)],
      providers: [{ provide: ISSUER_CONFIG, useValue: config }, CredentialsResponder],
    };
  }
}
