import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { APP_NAMES, type AppName } from '../../scripts/local-stack.js';
import { NATS_LAYOUT_FILE, natsLayout } from './nats-layout.js';
import { OwnNatsServer } from './nats-server.js';
import { TestStack } from './stack.js';

/**
 * The shipped permission layout (deploy/nats/event-service.conf, as it is)
 * on a nats-server of a test's own, over TLS with material made here by
 * openssl, and the apps on it, each as its own user with its own inbox
 * prefix; the stack's own client is the operators' user.
 */
export class LayoutStack {
  private readonly connections: NatsConnection[] = [];

  private constructor(
    private readonly dir: string,
    readonly server: OwnNatsServer,
    readonly stack: TestStack,
    private readonly passwords: ReadonlyMap<string, string>,
    private readonly tls: { caFile: string; certFile: string; keyFile: string },
  ) {}

  /** `env`: settings for every app besides the layout's (stream sizes, say); `apps`: those to run. */
  static async start(env: NodeJS.ProcessEnv = {}, apps: readonly AppName[] = APP_NAMES): Promise<LayoutStack> {
    const { passwordVariables: users } = natsLayout();
    const dir = mkdtempSync(join(tmpdir(), 'event-service-nats-layout-'));
    // Starting with a letter: nats-server parses a variable's value, and one like `12e4…` is no string.
    const passwords = new Map([...users.keys()].map((user) => [user, `p${randomBytes(12).toString('hex')}`]));
    const tls = { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'client.pem'), keyFile: join(dir, 'client.key') };
    makeCertificates(dir);
    // The shipped file as it is, included (nats-server 2.9 includes relative paths only) next to this test's TLS settings.
    const config = join(dir, 'nats-server.conf');
    writeFileSync(
      config,
      [
        `include "${relative(dir, NATS_LAYOUT_FILE)}"`,
        // A handshake may wait for a busy machine: more than the default half second.
        `tls { cert_file: "${join(dir, 'server.pem')}", key_file: "${join(dir, 'server.key')}", ca_file: "${tls.caFile}", verify: true, timeout: 10 }`,
        '',
      ].join('\n'),
    );
    const serverEnv = Object.fromEntries([...users].map(([user, variable]) => [variable, passwords.get(user)!]));
    const server = await OwnNatsServer.start(['-c', config, '-l', join(dir, 'nats-server.log')], { env: serverEnv });
    const url = `tls://127.0.0.1:${server.port}`;
    try {
      const stack = await TestStack.start({
        apps,
        nats: { url, prefix: 'es', auth: { user: 'ops', password: passwords.get('ops')!, tls } },
        env: { NATS_TLS_CA_FILE: tls.caFile, NATS_TLS_CERT_FILE: tls.certFile, NATS_TLS_KEY_FILE: tls.keyFile, WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', ...env },
        appEnv: Object.fromEntries(apps.map((app) => [app, { NATS_USER: app, NATS_PASSWORD: passwords.get(app), NATS_INBOX_PREFIX: `_INBOX_${app}` }])),
      });
      return new LayoutStack(dir, server, stack, passwords, tls);
    } catch (error) {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The server's log, where it records every refusal. */
  get logFile(): string {
    return join(this.dir, 'nats-server.log');
  }

  /** A connection as a user of the layout, with the inbox prefix its grant allows. */
  async connectAs(user: string, inboxPrefix: string): Promise<NatsConnection> {
    const url = `tls://127.0.0.1:${this.server.port}`;
    const connection = await connect({ servers: url, user, pass: this.passwords.get(user)!, inboxPrefix, tls: this.tls, name: user, timeout: 10_000 });
    this.connections.push(connection);
    return connection;
  }

  async stop(): Promise<void> {
    await Promise.all(this.connections.map((connection) => connection.close()));
    await this.stack.stop();
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (the server verifies clients). */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=event-service test CA');
  for (const [name, extensions] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=event-service test ${name}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  }
}
