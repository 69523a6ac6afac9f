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

  /** Posts `count` events of about 100 KB to one camera, one after another (fewer if `enough` says so first); returns their ids. */
  async function postFilled(camera: string, count: number, enough: () => boolean = () => false): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count && !enough(); index += 1) {
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

    // Read again once the gateway has closed them (it says so in its log), before its grace for an unread close ends:
    // the posts stop there, so that a loaded machine's slower posts cannot outlast that grace.
    const closedBoth = () => stack.output('websocket-gateway', 100_000).split('\n').filter((line) => line.includes("while all clients' backlogs are over their budget")).length >= stalled.length;
    const sent = await postFilled(camera, EVENTS, closedBoth);
    await waitFor(closedBoth, { timeoutMs: 30_000, what: 'the gateway to close both stalled clients' });
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

/** What one gateway replica lets in before it looks anything up: caps per client address, in all, and on resumes. */
describe('websocket gateway upgrade caps', () => {
  let stack: TestStack;
  let endpointId: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway'],
      appEnv: {
        // A resume sends one history event a second: a client catches up slowly, and the next resume comes while it does.
        'websocket-gateway': { WS_MAX_CONNECTIONS_PER_ADDRESS: '2', WS_MAX_CONNECTIONS: '4', WS_MAX_RESUMES: '1', WS_RESUME_RATE: '1', WS_CLIENT_ADDRESS_HEADER: 'x-forwarded-for' },
      },
    });
    endpointId = await stack.createWebsocketEndpoint('capped');
  });

  afterAll(async () => {
    clients.forEach((client) => client.close());
    await stack?.stop();
  });

  const from = (address: string) => ({ headers: { 'x-forwarded-for': `6.6.6.6, ${address}` } });
  async function connect(address: string, query = ''): Promise<TestClient> {
    const client = await TestClient.connect(`${stack.websocketUrl(endpointId)}${query}`, from(address));
    clients.push(client);
    return client;
  }

  it('refuses a third client from one address (4429), takes it once one leaves, and tells a client past the replica’s cap to reconnect (1013)', async () => {
    const [first] = [await connect('203.0.113.1'), await connect('203.0.113.1')];
    // The forged first hop is not the address: another client naming it is counted by its own.
    expect(await TestClient.refused(stack.websocketUrl(endpointId), from('203.0.113.1'))).toEqual({ code: 4429, reason: 'too many connections from this address' });
    first!.close();
    // The place is given back as the connection ends on the gateway's side (it counts one client then).
    await waitFor(async () => (await stack.metrics('websocket-gateway')).value('event_service_websocket_connections') === 1, { what: 'the first client to be gone' });
    const again = await connect('203.0.113.1');
    expect(again.closeEvent).toBeNull();

    await connect('203.0.113.2');
    // Four held (two of one address, two of others): the fifth, from a new address, is past the replica's cap.
    await connect('203.0.113.3');
    await waitFor(async () => (await stack.metrics('websocket-gateway')).value('event_service_websocket_connections') === 4, { what: 'four clients held' });
    const refused = await TestClient.refused(stack.websocketUrl(endpointId), from('203.0.113.4'));
    expect(refused).toEqual({ code: 1013, reason: 'this gateway holds all the connections it may; reconnect' });
    expect(again.closeEvent).toBeNull();
  });

  it('lets one client catch up at a time (WS_MAX_RESUMES 1): another resume meanwhile is told to reconnect (1013), and goes once the first is done', async () => {
    clients.splice(0).forEach((client) => client.close());
    await waitFor(async () => (await stack.metrics('websocket-gateway')).value('event_service_websocket_connections') === 0, { what: 'every client gone' });
    const since = new Date().toISOString();
    const posted = await stack.postFreshEvents(3);
    await stack.waitForRoutingDone();

    const first = await connect('203.0.113.5', `&since=${since}`);
    await first.waitForEvents(1);
    // Still catching up (one history event a second): the second resume is over the cap.
    expect(first.eventIds().length).toBeLessThan(posted.length);
    expect(await TestClient.refused(`${stack.websocketUrl(endpointId)}&since=${since}`, from('203.0.113.6'))).toEqual({
      code: 1013,
      reason: 'too many clients are catching up on this gateway; reconnect',
    });
    await first.waitForEvents(posted.length);
    const next = await waitFor(
      async () => {
        const client = await connect('203.0.113.7', `&since=${since}`);
        return waitFor(() => (client.closeEvent ? 'refused' : client.frames.length > 0 ? client : null), { what: 'the resume to start or be refused' }).then((outcome) => (outcome === 'refused' ? null : outcome));
      },
      { what: 'a resume to be taken once the first is done' },
    );
    await next.waitForEvents(1);
  });
});
