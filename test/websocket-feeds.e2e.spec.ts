import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

/** From this many endpoints with clients, the gateway reads them all with one consumer; below half of it, each with its own again. */
const SHARED_FROM = 4;
const ENDPOINTS = 6;

/**
 * A gateway switches how it reads its endpoints' deliveries (a consumer per
 * endpoint, or one for all: WS_SHARED_FEED_ENDPOINTS) as clients come and
 * go, while events flow: every client gets each event posted while it is
 * connected, once, in order, on both sides of each switch.
 */
describe('a gateway that moves its endpoints to one consumer and back', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ appEnv: { 'websocket-gateway': { WS_SHARED_FEED_ENDPOINTS: String(SHARED_FROM), WS_FEED_LINGER: '200ms' } } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const readsShared = async () => (await stack.readiness('websocket-gateway')).sharedFeed as boolean;

  it('loses and doubles nothing while events flow through both switches', async () => {
    const endpoints: string[] = [];
    for (let index = 0; index < ENDPOINTS; index += 1) endpoints.push(await stack.createWebsocketEndpoint(`feeds ${index}`));
    await stack.waitForConfig();

    // One event after another (one camera: their order is the order of the posts) until told to stop.
    const posted: string[] = [];
    /** Posts begun: one begun before a client joined may be stored before it, or after. */
    let begun = 0;
    let posting = true;
    const poster = (async () => {
      while (posting) {
        begun += 1;
        posted.push(...(await stack.postFreshEvents(1)));
      }
    })();
    const morePosted = async (count: number) => {
      const target = posted.length + count;
      await waitFor(() => posted.length >= target, { what: `${count} more events posted` });
    };

    // Clients join one endpoint after another: the fourth endpoint moves them all to one consumer, the later ones join it.
    const clients: Array<{ client: TestClient; begunBefore: number }> = [];
    for (const endpointId of endpoints) {
      await morePosted(3);
      clients.push({ client: await TestClient.connect(stack.websocketUrl(endpointId)), begunBefore: begun });
      if (clients.length === SHARED_FROM - 1) expect(await readsShared()).toBe(false);
      if (clients.length === SHARED_FROM) await waitFor(readsShared, { what: 'the gateway to read its endpoints with one consumer' });
    }
    await morePosted(5);

    // They leave but the last: with one endpoint left (below half of SHARED_FROM), it has a consumer of its own again.
    const staying = clients.at(-1)!;
    for (const { client } of clients.slice(0, -1)) {
      await morePosted(3);
      const upTo = posted.length;
      await waitFor(() => client.eventIds().includes(posted[upTo - 1]!), { what: 'a client to have every event posted so far' });
      client.close();
      await client.waitForClose();
    }
    await waitFor(async () => !(await readsShared()), { what: 'the gateway to read its one endpoint with a consumer of its own' });
    await morePosted(5);
    posting = false;
    await poster;
    await waitFor(() => staying.client.eventIds().includes(posted.at(-1)!), { what: 'the staying client to have the last event' });

    for (const { client, begunBefore } of clients) {
      const received = client.eventIds();
      // A run of the posted events, in order, without a gap or a repeat, from no later than the first posted after it joined.
      const first = posted.indexOf(received[0]!);
      expect(first).toBeGreaterThanOrEqual(0);
      expect(first).toBeLessThanOrEqual(begunBefore);
      expect(received).toEqual(posted.slice(first, first + received.length));
    }
    expect(staying.client.eventIds().at(-1)).toBe(posted.at(-1));
    staying.client.close();
  }, 120_000);
});
