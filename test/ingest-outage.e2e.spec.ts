import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshEvent } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

describe('ingest never answers 2xx for an event it has not stored', () => {
  let stack: TestStack;
  let proxy: TcpProxy;

  beforeAll(async () => {
    proxy = await TcpProxy.start(4222);
    stack = await TestStack.start({ appEnv: { ingest: { NATS_URL: `nats://127.0.0.1:${proxy.port}` } } });
  });

  afterAll(async () => {
    await stack?.stop();
    await proxy?.close();
  });

  it('answers 503 with Retry-After while JetStream is unreachable, and the retried event arrives once', async () => {
    const client = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint()));
    await stack.waitForConfig();
    const before = freshEvent();
    expect((await stack.postEvent(JSON.stringify(before))).status).toBe(202);

    proxy.cut();
    const during = JSON.stringify(freshEvent());
    const refused = await stack.postEvent(during);

    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused.json()).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect((await stack.readiness('ingest')).checks.nats).toBe(false);

    proxy.restore();
    // The agent retries as Retry-After tells it to, until the event is stored.
    await waitFor(async () => (await stack.postEvent(during)).status === 202, { timeoutMs: 20_000, intervalMs: 250, what: 'ingest to store the event again' });
    const after = freshEvent();
    expect((await stack.postEvent(JSON.stringify(after))).status).toBe(202);

    await client.waitForEvents(3);
    expect(client.eventIds()).toEqual([before.event.id, JSON.parse(during).event.id, after.event.id]);
    client.close();
  });
});
