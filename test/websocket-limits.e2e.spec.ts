import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { freshEvent } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const TOTAL_BUDGET = 1_048_576;
const EVENTS = 120;
const FILLER = 'x'.repeat(100_000);

describe('websocket gateway limits', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ appEnv: { 'websocket-gateway': { WS_MAX_TOTAL_BUFFERED_BYTES: String(TOTAL_BUDGET) } } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Posts `count` events of about 100 KB to one camera, one after another; returns their ids. */
  async function postFilled(camera: string, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const event = freshEvent() as Record<string, any>;
      event.camera.id = camera;
      event.filler = FILLER;
      expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
      ids.push(event.event.id);
    }
    return ids;
  }

  it('closes a client that sends a frame over 4 KiB with 1009, and keeps the others', async () => {
    const endpointId = await stack.createWebsocketEndpoint();
    const talker = await TestClient.connect(stack.websocketUrl(endpointId));
    const quiet = await TestClient.connect(stack.websocketUrl(endpointId));
    talker.socket.send('x'.repeat(64 * 1024));

    const closed = await waitFor(() => talker.closeEvent, { what: 'the gateway to close the talker' });
    expect(closed.code).toBe(1009);
    expect(quiet.closeEvent).toBeNull();
    quiet.close();
  });

  it('closes the clients that hold the most unsent data once all clients together are over the budget, while a reading client gets everything', async () => {
    const endpointId = await stack.createWebsocketEndpoint();
    const camera = randomUUID();
    await stack.createEventFilter({ endpointIds: [endpointId], in: { cameraIds: [camera] } });
    const reader = await TestClient.connect(stack.websocketUrl(endpointId));
    // Connected, but they never read: their frames pile up in the gateway.
    const stalled = await Promise.all([0, 1].map(() => TestClient.connect(stack.websocketUrl(endpointId))));
    for (const client of stalled) ((client.socket as unknown as { _socket: Socket })._socket).pause();
    await stack.waitForConfig();

    const sent = await postFilled(camera, EVENTS);

    // Read again once the gateway has closed them (it says so in its log), before its grace for an unread close ends.
    await waitFor(() => stack.output('websocket-gateway', 100_000).split('\n').filter((line) => line.includes("while all clients' backlogs are over their budget")).length >= stalled.length, {
      timeoutMs: 30_000,
      what: 'the gateway to close both stalled clients',
    });
    for (const client of stalled) ((client.socket as unknown as { _socket: Socket })._socket).resume();
    await waitFor(() => sent.every((id) => reader.eventIds().includes(id)), { timeoutMs: 30_000, what: 'the reader to get every event' });
    const closes = await Promise.all(stalled.map((client) => waitFor(() => client.closeEvent, { what: 'a stalled client to be closed' })));
    for (const close of closes) expect(close).toEqual({ code: 4008, reason: 'client too slow: the gateway holds too much unsent data' });
    expect(reader.closeEvent).toBeNull();
    expect(reader.socket.readyState).toBe(WebSocket.OPEN);
    reader.close();
  });

  it('never closes a client as slow for the history it asked for: a stalled reader of a 12 MB history gets all of it once it reads', async () => {
    const endpointId = await stack.createWebsocketEndpoint('history');
    const camera = randomUUID();
    await stack.createEventFilter({ endpointIds: [endpointId], in: { cameraIds: [camera] } });
    const reference = await TestClient.connect(stack.websocketUrl(endpointId));
    await stack.waitForConfig();
    const since = new Date().toISOString();
    const sent = await postFilled(camera, EVENTS);
    await reference.waitForEvents(EVENTS, 30_000);

    // Far more history than the gateway's whole budget for unsent data; the client does not read at first.
    const resuming = await TestClient.connect(`${stack.websocketUrl(endpointId)}&since=${encodeURIComponent(since)}`);
    const socket = (resuming.socket as unknown as { _socket: Socket })._socket;
    socket.pause();
    await waitFor(async () => ((await stack.readiness('websocket-gateway')).resumes as { fromStream: number }).fromStream > 0, { what: 'the catch-up to start' });
    // Live events arrive while it has not read its history: they wait for it, and it is not "too slow" for them either.
    const live = await postFilled(camera, 20);
    await reference.waitForEvents(EVENTS + live.length, 30_000);
    socket.resume();

    await resuming.waitForEvents(EVENTS + live.length, 60_000);
    expect(resuming.eventIds()).toEqual([...sent, ...live]);
    expect(resuming.closeEvent).toBeNull();
    [reference, resuming].forEach((client) => client.close());
  });
});
