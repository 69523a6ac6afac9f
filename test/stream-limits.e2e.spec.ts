import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { freshEvent } from './support/fixtures.js';
import { freePort } from './support/ports.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const MAX_POSTS = 3_000;

/**
 * Streams hold a bounded number of bytes. One full of events not every
 * consumer has read refuses new ones (ingest answers 503, the apps before it
 * wait) rather than discarding the oldest; read history is trimmed.
 */
describe('a full stream', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // filter-router is not running: nothing past profile-sync is read, so the streams fill.
    stack = await TestStack.start({ apps: ['api', 'ingest', 'profile-sync', 'websocket-gateway', 'webhook-dispatcher'], env: { STREAM_MAX_BYTES: '256KiB' } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('makes ingest answer 503 and loses nothing: every event accepted is delivered once the consumers catch up', async () => {
    const endpointId = await stack.createWebsocketEndpoint();
    const camera = randomUUID();
    await stack.createEventFilter({ endpointIds: [endpointId], in: { cameraIds: [camera] } });
    const client = await TestClient.connect(stack.websocketUrl(endpointId));
    try {
      const accepted: string[] = [];
      let refusal: { status: number; body: any } | null = null;
      for (let posted = 0; posted < MAX_POSTS && !refusal; posted += 1) {
        const event = freshEvent();
        event.camera.id = camera;
        const response = await stack.postEvent(JSON.stringify(event));
        if (response.status === 202) {
          accepted.push(event.event.id);
          await response.body?.cancel();
        } else {
          refusal = { status: response.status, body: await response.json() };
        }
      }
      expect(refusal).toMatchObject({ status: 503, body: { code: 'STORE_FULL' } });
      expect(accepted.length).toBeGreaterThan(0);

      stack.ports.set('filter-router', { main: await freePort(), health: await freePort() });
      await stack.startApp('filter-router');
      await waitFor(() => accepted.every((id) => client.eventIds().includes(id)), { timeoutMs: 60_000, what: 'every accepted event' });
      expect(client.eventIds().filter((id) => accepted.includes(id))).toHaveLength(accepted.length);

      // Read history was trimmed: the store takes events again.
      const later = freshEvent();
      later.camera.id = camera;
      await waitFor(async () => (await stack.postEvent(JSON.stringify(later))).status === 202, { timeoutMs: 30_000, what: 'ingest to accept again' });
      await waitFor(() => client.eventIds().includes(later.event.id), { what: 'the later event' });
    } finally {
      client.close();
    }
  });
});
