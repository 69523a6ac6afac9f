import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createUser } from '@nats-io/nkeys';
import { ensureStreams, NatsClient, type NatsAuth } from '@app/messaging';
import { OwnNatsServer } from './support/nats-server.js';

/** Every app connects with the credentials the NATS_* variables give (docs/configuration.md): each way NATS offers. */
describe('NATS credentials', () => {
  const servers: OwnNatsServer[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'event-service-nats-auth-'));

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function server(args: string[]): Promise<OwnNatsServer> {
    const started = await OwnNatsServer.start(args);
    servers.push(started);
    return started;
  }

  /** Connects as an app does, sets up the streams, and closes. */
  async function connectAs(url: string, auth: NatsAuth | undefined): Promise<void> {
    const client = await NatsClient.connect({ url, prefix: 'auth', streamMaxAgeMs: 3_600_000, duplicateWindowMs: 60_000, connectionName: 'auth-test', auth });
    try {
      await ensureStreams(client);
    } finally {
      await client.close();
    }
  }

  it('connects with a user and password, a token or an NKey seed, and is refused without them', async () => {
    const userServer = await server(['--user', 'event-service', '--pass', 'secret-password']);
    await expect(connectAs(userServer.url, { user: 'event-service', password: 'secret-password' })).resolves.toBeUndefined();
    await expect(connectAs(userServer.url, { user: 'event-service', password: 'wrong' })).rejects.toThrow(/authorization/i);

    const tokenServer = await server(['--auth', 'secret-token']);
    await expect(connectAs(tokenServer.url, { token: 'secret-token' })).resolves.toBeUndefined();
    await expect(connectAs(tokenServer.url, undefined)).rejects.toThrow(/authorization/i);

    const user = createUser();
    const config = join(dir, 'nkey.conf');
    writeFileSync(config, `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n`);
    const seedFile = join(dir, 'user.nk');
    writeFileSync(seedFile, new TextDecoder().decode(user.getSeed()));
    const nkeyServer = await server(['-c', config]);
    await expect(connectAs(nkeyServer.url, { nkeySeedFile: seedFile })).resolves.toBeUndefined();
    await expect(connectAs(nkeyServer.url, undefined)).rejects.toThrow(/authorization/i);
  });

  it('refuses contradictory settings with a readable error', async () => {
    await expect(connectAs('nats://127.0.0.1:1', { user: 'u', password: 'p', token: 't' })).rejects.toThrow(/one of NATS_USER and NATS_PASSWORD, NATS_TOKEN/);
    await expect(connectAs('nats://127.0.0.1:1', { user: 'u' })).rejects.toThrow(/NATS_USER and NATS_PASSWORD go together/);
  });
});
