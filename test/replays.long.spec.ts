import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { replayEnded, startReplay } from './support/replays.js';
import { seedWebsocketDeliveries } from './support/seed-deliveries.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const DELIVERIES = 150_000;

/**
 * A re-delivery of 150,000 websocket deliveries, its rate raised for the
 * test: no cap but the stream's retention. The history is stored as the
 * router stores it (test/support/seed-deliveries.ts); a client connected to
 * the endpoint receives every delivery again, live, in the history's order.
 */
describe('a replay job of 150,000 deliveries', () => {
  let stack: TestStack;
  let client: TestClient | null = null;

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'websocket-gateway', 'webhook-dispatcher'],
      env: { STREAM_MAX_BYTES: '1GiB' },
      appEnv: {
        'webhook-dispatcher': { REPLAY_TOTAL_RATE_PER_SECOND: '100000', REPLAY_RATE_PER_SECOND: '100000' },
        // The client is an integrator that reads fast: the gateway's per-client buffer is not what is tested.
        'websocket-gateway': { WS_MAX_BUFFERED_BYTES: String(64 * 1024 * 1024) },
      },
    });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  });

  it('re-delivers every one of them, in order, once', async () => {
    const endpointId = await stack.createWebsocketEndpoint('big replay');
    await stack.waitForConfig();
    const from = new Date(Date.now() - 1_000);
    const ids = await seedWebsocketDeliveries(await stack.natsClient(), endpointId, DELIVERIES);
    const to = new Date(Date.now() + 1_000);
    client = await TestClient.connect(stack.websocketUrl(endpointId));

    const job = await startReplay(stack.graphql.bind(stack), { kind: 'REDELIVER', endpointId, from, to });
    const ended = await replayEnded(stack.graphql.bind(stack), job.id, 420_000);
    expect(ended).toMatchObject({ state: 'SUCCEEDED', total: DELIVERIES, done: DELIVERIES, sent: DELIVERIES, skipped: 0 });
    await waitFor(() => client!.frames.length >= DELIVERIES, { timeoutMs: 120_000, what: `${DELIVERIES} frames (have ${client!.frames.length})` });
    expect(client.eventIds()).toEqual(ids);
  }, 480_000);
});
