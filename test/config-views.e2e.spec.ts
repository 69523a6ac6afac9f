import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { ConfigKeys, Headers, openConfigBucket, publishDurably } from '@app/messaging';
import { freshEvent } from './support/fixtures.js';
import { freePort } from './support/ports.js';
import { Receiver } from './support/receiver.js';
import { DATABASE_URL, TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

describe('a data-path app started before the api (an empty config bucket)', () => {
  let stack: TestStack;
  let db: pg.Client;
  let receiver: Receiver;

  beforeAll(async () => {
    stack = await TestStack.start({ apps: [], env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' } });
    for (const app of ['webhook-dispatcher', 'api'] as const) stack.ports.set(app, { main: await freePort(), health: await freePort() });
    db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    receiver = await Receiver.start();
  });

  afterAll(async () => {
    await receiver?.close();
    await db?.end();
    await stack?.stop();
  });

  it('neither drops nor dead-letters its deliveries and parked retries, and sends them once the api has published', async () => {
    await stack.startApp('webhook-dispatcher', { ready: false });
    // The dispatcher migrated the schema; the endpoint exists in PostgreSQL, not yet in the bucket.
    await waitFor(async () => (await db.query(`SELECT to_regclass('${stack.schema}.delivery_retry') AS t`)).rows[0].t !== null, { what: 'the schema' });
    const endpointId = randomUUID();
    const secret = `whsec_${randomBytes(24).toString('base64')}`;
    await db.query(`INSERT INTO ${stack.schema}.endpoint (id, name, type, meta, signing_secret) VALUES ($1, 'hook', 'WEB_HOOK', $2, $3)`, [
      endpointId,
      { url: receiver.url, method: 'POST', headerNames: [] },
      secret,
    ]);
    const nats = await stack.natsClient();
    const fresh = freshEvent();
    await publishDurably(nats, nats.topology.webhookDeliveries(endpointId), new TextEncoder().encode(JSON.stringify(fresh)), {
      messageId: `${fresh.event.id}:${endpointId}`,
      headers: { [Headers.eventId]: fresh.event.id, [Headers.endpointId]: endpointId },
    });
    const parked = freshEvent();
    await db.query(`INSERT INTO ${stack.schema}.delivery_retry (endpoint_id, event_id, body, attempt, next_attempt_at) VALUES ($1, $2, $3, 2, now())`, [
      endpointId,
      parked.event.id,
      Buffer.from(JSON.stringify(parked)),
    ]);

    const readiness = await stack.readiness('webhook-dispatcher');
    expect(readiness).toMatchObject({ ready: false, checks: { config: false } });

    await stack.startApp('api');
    await waitFor(() => receiver.requests.length >= 2, { what: 'both deliveries' });

    const verifier = new Webhook(secret);
    const received = receiver.requests.map((request) => verifier.verify(request.body, request.headers) as { event: { id: string } });
    expect(received.map((event) => event.event.id).sort()).toEqual([fresh.event.id, parked.event.id].sort());
    expect((await nats.manager.streams.info(nats.topology.streams.deadLetters)).state.messages).toBe(0);
    await stack.waitReady('webhook-dispatcher');
  });
});

describe('a malformed value in the config bucket', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('is skipped and counted, and routing goes on', async () => {
    const bucket = await openConfigBucket(await stack.natsClient());
    await bucket.put(ConfigKeys.filter(randomUUID()), 'not json');
    await bucket.put(ConfigKeys.endpoint(randomUUID()), JSON.stringify({ id: 5 }));
    await bucket.put(ConfigKeys.health(randomUUID()), '[]');
    const endpointId = await stack.createWebsocketEndpoint();
    const camera = randomUUID();
    await stack.createEventFilter({ endpointIds: [endpointId], in: { cameraIds: [camera] } });
    const client = await TestClient.connect(stack.websocketUrl(endpointId));
    await stack.waitForConfig();
    try {
      const event = freshEvent();
      event.camera.id = camera;
      expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
      await waitFor(() => client.eventIds().includes(event.event.id), { what: 'the event' });

      for (const app of ['filter-router', 'websocket-gateway'] as const) {
        const readiness = await stack.readiness(app);
        expect(readiness.configMalformed).toBeGreaterThanOrEqual(3);
        await stack.waitReady(app);
      }
    } finally {
      client.close();
    }
  });
});
