import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { freshEvent } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { TestClient } from './support/ws-client.js';

const EVENTS = 400;

describe('the data path survives crashes and a PostgreSQL outage', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('delivers every event ingested while filter-router was killed with SIGKILL, none twice', async () => {
    const client = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint()));
    await stack.waitForConfig();
    const agentId = randomUUID();
    const sent: string[] = [];
    const publish = async (count: number) => {
      for (let i = 0; i < count; i += 1) {
        const event = freshEvent({ agentId });
        await stack.publishAgentEvent(agentId, JSON.stringify(event));
        sent.push(event.event.id);
      }
    };

    // Kill while events flow: some of the first quarter arrived, the rest may be in the router's hands.
    await publish(EVENTS / 4);
    await client.waitForEvents(EVENTS / 8);
    await stack.kill('filter-router', 'SIGKILL');
    await publish((EVENTS * 3) / 4);
    const receivedWhileDown = client.frames.length;
    expect(receivedWhileDown).toBeLessThan(EVENTS);

    await stack.startApp('filter-router');

    await client.waitForEvents(EVENTS, 45_000);
    const received = client.eventIds();
    expect(new Set(received).size).toBe(received.length);
    expect(new Set(received)).toEqual(new Set(sent));
    client.close();
  });

  it('starts the data path and keeps routing with the last published endpoints and filters while PostgreSQL is unreachable', async () => {
    const endpoint = await stack.createWebsocketEndpoint('before the outage');
    const camera = randomUUID();
    await stack.createEventFilter({ name: 'one camera', endpointIds: [endpoint], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    await stack.kill('api');
    const unreachable = { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unreachable' };
    await stack.kill('filter-router');
    await stack.kill('websocket-gateway');
    stack.options.appEnv = { 'filter-router': unreachable, 'websocket-gateway': unreachable };
    await Promise.all([stack.startApp('filter-router'), stack.startApp('websocket-gateway')]);

    const client = await TestClient.connect(stack.websocketUrl(endpoint));
    const otherCamera = freshEvent();
    const filteredCamera = freshEvent();
    filteredCamera.camera.id = camera;
    expect((await stack.postEvent(JSON.stringify(otherCamera))).status).toBe(202);
    expect((await stack.postEvent(JSON.stringify(filteredCamera))).status).toBe(202);

    // Routing is in order: the second event's arrival means the first was routed, and filtered out.
    await client.waitForEvents(1);
    expect(client.eventIds()).toEqual([filteredCamera.event.id]);
    client.close();
  });
});
