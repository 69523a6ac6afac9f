import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { APP_NAMES, type AppName } from '../../scripts/local-stack.js';
import { makeOperatorSetup, type OperatorSetup } from '../../scripts/operator-setup.js';
import { AppProcess } from './app-process.js';
import { OwnNatsServer } from './nats-server.js';
import { TestStack } from './stack.js';

/**
 * In `dir`: the operator set-up as `npm run nats:operator` makes it from the
 * shipped layout, a nats-server of its own running it (its log in
 * `dir/nats-server.log`), and the credentials issuer beside it.
 */
export async function startOperatorServer(dir: string): Promise<{ setup: OperatorSetup; server: OwnNatsServer; issuer: AppProcess }> {
  const setup = await makeOperatorSetup(dir);
  const config = join(dir, 'nats-server.conf');
  writeFileSync(config, 'include "operator.conf"\n');
  const server = await OwnNatsServer.start(['-c', config, '-l', join(dir, 'nats-server.log')]);
  const issuer = AppProcess.spawn(
    'credentials-issuer',
    {
      ...process.env,
      NATS_URL: server.url,
      NATS_CREDS_FILE: join(dir, 'creds', 'credentials-issuer.creds'),
      NATS_INBOX_PREFIX: '_INBOX_credentials-issuer',
      ISSUER_KEYS_DIR: setup.issuerDir,
    },
    { logFile: join(dir, 'credentials-issuer.log') },
  );
  return { setup, server, issuer };
}

/**
 * The whole service on NATS in operator mode, as `npm run nats:operator`
 * sets it up from the shipped layout (docs/operations.md, "Agents' NATS
 * credentials"): a nats-server of its own with the operator, the accounts
 * and a full resolver; each app with its own creds file and inbox prefix;
 * the credentials issuer beside them; the api issuing agents' credentials
 * (AGENT_CREDENTIALS=nats). The layout's prefix, `es`.
 */
export class OperatorStack {
  private readonly connections: NatsConnection[] = [];

  private constructor(
    private readonly dir: string,
    readonly server: OwnNatsServer,
    readonly stack: TestStack,
    readonly issuer: AppProcess,
    /** The issuer's part of the set-up (its keys and system user): what a test needs to tamper with the agents account. */
    readonly issuerDir: string,
  ) {}

  /** `env`: settings for every app; `appEnv`: for one app; `apps`: those to run. */
  static async start(env: NodeJS.ProcessEnv = {}, appEnv: Partial<Record<AppName, NodeJS.ProcessEnv>> = {}, apps: readonly AppName[] = APP_NAMES): Promise<OperatorStack> {
    const dir = mkdtempSync(join(tmpdir(), 'event-service-operator-stack-'));
    const { setup, server, issuer } = await startOperatorServer(dir);
    const creds = (user: string) => join(dir, 'creds', `${user}.creds`);
    try {
      const stack = await TestStack.start({
        apps,
        nats: { url: server.url, prefix: 'es', auth: { credsFile: creds('ops') } },
        env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', ...env },
        appEnv: Object.fromEntries(
          apps.map((app) => [app, { NATS_CREDS_FILE: creds(app), NATS_INBOX_PREFIX: `_INBOX_${app}`, ...(app === 'api' ? { AGENT_CREDENTIALS: 'nats' } : {}), ...appEnv[app] }]),
        ),
      });
      return new OperatorStack(dir, server, stack, issuer, setup.issuerDir);
    } catch (error) {
      await issuer.stop();
      await server.stop();
      throw error;
    }
  }

  /** The server's log: it records every request its permissions refused. */
  get logFile(): string {
    return join(this.dir, 'nats-server.log');
  }

  /** A raw NATS client with a creds file's text (an agent's, as createAgent returned it). */
  async connectWith(creds: string, inboxPrefix: string, options: { reconnect?: boolean } = {}): Promise<NatsConnection> {
    const connection = await connect({ servers: this.server.url, authenticator: credsAuthenticator(new TextEncoder().encode(creds)), inboxPrefix, ...options });
    this.connections.push(connection);
    return connection;
  }

  async stop(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.close().catch(() => undefined)));
    await this.stack.stop();
    await this.issuer.stop();
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
