import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { ConfigKeys, openConfigBucket } from '@app/messaging';
import { freshEvent } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { DATABASE_URL, TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

const k1 = `k1:${randomBytes(32).toString('base64')}`;
const k2 = `k2:${randomBytes(32).toString('base64')}`;

/** Webhook secrets and custom header values: sealed in PostgreSQL and on NATS, old records sealed at start, the key replaceable. */
describe('secrets at rest', () => {
  let stack: TestStack;
  let database: pg.Client;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', SECRET_KEYS: k1 },
    });
    database = new pg.Client({ connectionString: DATABASE_URL });
    await database.connect();
    await database.query(`SET search_path TO ${stack.schema}`);
  });

  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await database?.end();
    await stack?.stop();
  });

  /** Every plaintext secret the scenario used: none may appear in any app's log. */
  const used: string[] = [];

  const rowOf = async (id: string) => (await database.query('SELECT * FROM endpoint WHERE id = $1', [id])).rows[0] as Record<string, any>;

  async function deliverTo(endpointId: string, receiver: Receiver): Promise<string> {
    const camera = randomUUID();
    await stack.createEventFilter({ name: 'secrets', endpointIds: [endpointId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    const event = freshEvent();
    event.camera.id = camera;
    const before = receiver.requests.length;
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    await waitFor(() => receiver.requests.length > before, { what: 'the delivery' });
    return receiver.requests[before]!.body;
  }

  it('keeps the signing secret and header values sealed in PostgreSQL and in the secrets bucket (none in the config bucket), and still signs and sends them', async () => {
    const headerValue = `receiver-credential-${randomUUID()}`;
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const created = await stack.graphql('mutation($url: String!, $value: String!) { createWebhookEndpoint(name: "sealed", url: $url, headers: [{ name: "X-Receiver-Auth", value: $value }]) { id } }', {
      url: receiver.url,
      value: headerValue,
    });
    expect(created.errors).toBeUndefined();
    const endpointId = created.data.createWebhookEndpoint.id as string;
    const secret = (await stack.graphql('query($id: ID!) { webhookSecret(endpointId: $id) { secret } }', { id: endpointId })).data.webhookSecret.secret as string;
    used.push(headerValue, secret);

    const row = await rowOf(endpointId);
    expect(row.sealed_secrets).toMatch(/^v2\.k1\./);
    expect(row.signing_secret).toBeNull();
    for (const plaintext of [secret, headerValue, secret.replace(/^whsec_/, '')]) expect(JSON.stringify(row)).not.toContain(plaintext);
    // In a bucket of their own, which only the api and the dispatcher read; the config bucket every data-path app reads has none.
    const bucket = await openConfigBucket(await stack.natsClient(), 'secrets');
    const published = (await bucket.get(ConfigKeys.secrets(endpointId)))!.string();
    expect(await (await openConfigBucket(await stack.natsClient())).get(ConfigKeys.secrets(endpointId))).toBeNull();
    expect(published).toContain('v2.k1.');
    for (const plaintext of [secret, headerValue]) expect(published).not.toContain(plaintext);

    const body = await deliverTo(endpointId, receiver);
    const request = receiver.requests.at(-1)!;
    expect(request.headers['x-receiver-auth']).toBe(headerValue);
    expect(new Webhook(secret).verify(body, request.headers)).toBeTruthy();
  });

  it('seals records kept in plaintext by an older version, and seals everything again with a new first key; the old record still delivers with its secret and header', async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    // As a version before sealing kept a webhook: its secret and header value in plaintext columns.
    const legacyId = randomUUID();
    const legacySecret = `whsec_${randomBytes(24).toString('base64')}`;
    const legacyHeader = `legacy-credential-${randomUUID()}`;
    used.push(legacySecret, legacyHeader);
    await database.query(
      `INSERT INTO endpoint (id, name, type, meta, signing_secret, custom_headers)
       VALUES ($1, 'legacy', 'WEB_HOOK', $2, $3, $4)`,
      [legacyId, { url: receiver.url, method: 'POST', headerNames: ['x-legacy-auth'] }, legacySecret, { 'x-legacy-auth': legacyHeader }],
    );
    const sealedBefore = (await database.query<{ id: string }>(`SELECT id FROM endpoint WHERE sealed_secrets LIKE 'v2.k1.%'`)).rows.map((row) => row.id);
    expect(sealedBefore.length).toBeGreaterThan(0);

    // As an api before the secrets and tokens had buckets of their own left them: in the config bucket every data-path app reads.
    const nats = await stack.natsClient();
    const configBucket = await openConfigBucket(nats);
    const [legacySecretsKey, legacyTokenKey] = [ConfigKeys.secrets(randomUUID()), ConfigKeys.token(randomUUID())];
    await configBucket.put(legacySecretsKey, JSON.stringify({ version: 1, sealed: 'v2.k1.legacy' }));
    await configBucket.put(legacyTokenKey, JSON.stringify({ id: 'legacy', hash: 'legacy', scope: 'ADMIN', agentIds: [], version: 1 }));
    // And a websocket endpoint's record with its connection token's hash in it.
    const websocket = await stack.createWebsocketEndpoint();
    expect((await stack.graphql('mutation($id: ID!) { rotateWebSocketToken(endpointId: $id) }', { id: websocket })).errors).toBeUndefined();
    const record = JSON.parse((await configBucket.get(ConfigKeys.endpoint(websocket)))!.string()) as { meta: Record<string, unknown> };
    expect(record.meta.tokenHash).toBeUndefined();
    await configBucket.put(ConfigKeys.endpoint(websocket), JSON.stringify({ ...record, meta: { ...record.meta, tokenHash: 'legacy' } }));

    // A new key first, the old one still listed: the api seals every record with the new one at start.
    await stack.kill('webhook-dispatcher', 'SIGTERM');
    await stack.kill('api', 'SIGTERM');
    stack.options.env!.SECRET_KEYS = `${k2},${k1}`;
    await stack.startApp('api');
    await stack.startApp('webhook-dispatcher');

    const legacy = await rowOf(legacyId);
    expect(legacy.sealed_secrets).toMatch(/^v2\.k2\./);
    expect([legacy.signing_secret, legacy.previous_signing_secret, legacy.custom_headers]).toEqual([null, null, {}]);
    expect(JSON.stringify(legacy)).not.toContain(legacySecret);
    expect(JSON.stringify(legacy)).not.toContain(legacyHeader);
    const stillOld = await database.query(`SELECT id FROM endpoint WHERE id = ANY($1) AND sealed_secrets NOT LIKE 'v2.k2.%'`, [sealedBefore]);
    expect(stillOld.rows).toEqual([]);

    const body = await deliverTo(legacyId, receiver);
    const request = receiver.requests.at(-1)!;
    expect(request.headers['x-legacy-auth']).toBe(legacyHeader);
    expect(new Webhook(legacySecret).verify(body, request.headers)).toBeTruthy();
    const revealed = await stack.graphql('query($id: ID!) { webhookSecret(endpointId: $id) { secret } }', { id: legacyId });
    expect(revealed.data.webhookSecret.secret).toBe(legacySecret);

    // The restarted api removed the old secrets and tokens from the config bucket; the secrets are in their own.
    expect([await configBucket.get(legacySecretsKey), await configBucket.get(legacyTokenKey)].map((entry) => entry?.operation ?? 'gone')).not.toContain('PUT');
    expect((await (await openConfigBucket(nats, 'secrets')).get(ConfigKeys.secrets(legacyId)))?.string()).toMatch(/v2\.k2\./);
    expect(JSON.parse((await configBucket.get(ConfigKeys.endpoint(websocket)))!.string()).meta.tokenHash).toBeUndefined();
    expect((await (await openConfigBucket(nats, 'tokens')).get(ConfigKeys.connectionToken(websocket)))?.json<{ hash: string }>().hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('writes none of the tokens, secrets, header values or keys it was given into any log line or error message', async () => {
    const named = await stack.graphql('mutation($agentIds: [String!]) { createApiToken(name: "agent", scope: AGENT, agentIds: $agentIds) { token } }', {
      agentIds: [freshEvent().camera.agent_id],
    });
    const agentToken = named.data.createApiToken.token as string;
    used.push(agentToken, stack.token, ...[k1, k2].map((key) => key.slice(3)));
    expect((await stack.postEvent(JSON.stringify(freshEvent()), agentToken)).status).toBe(202);
    // Refusals that carry secrets: a wrong token, a header value beside a bad header name, one in a variable that does not fit the schema.
    const wrongToken = `est_${randomBytes(32).toString('base64url')}`;
    used.push(wrongToken);
    expect((await stack.postEvent(JSON.stringify(freshEvent()), wrongToken)).status).toBe(401);
    const badValue = `bad-header-value-${randomUUID()}`;
    used.push(badValue);
    const refused = await stack.graphql('mutation($value: String!) { createWebhookEndpoint(name: "x", url: "http://127.0.0.1:1/", headers: [{ name: "bad name", value: $value }]) { id } }', { value: badValue });
    expect(refused.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(refused)).not.toContain(badValue);
    const misfit = await stack.graphql('mutation($headers: [HeaderInput!]) { createWebhookEndpoint(name: "x", url: "http://127.0.0.1:1/", headers: $headers) { id } }', {
      headers: [{ name: 'x-auth', value: badValue, extra: true }],
    });
    expect(misfit.errors?.[0]?.message).toMatch(/got an invalid value; .*extra/);
    expect(JSON.stringify(misfit)).not.toContain(badValue);

    // The log files (every run of each app), and the last lines in memory, which the files may not have yet.
    const apps = ['api', 'ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'] as const;
    const logs = [
      ...apps.map((app) => readFileSync(join(tmpdir(), 'event-service-tests', `${stack.prefix}-${app}.log`), 'utf8')),
      ...apps.map((app) => stack.output(app)),
    ].join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of used) expect({ secret, logged: logs.includes(secret) }).toEqual({ secret, logged: false });
  });
});
