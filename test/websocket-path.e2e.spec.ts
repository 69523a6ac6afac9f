import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { freshEvent, SEED_IDENTIFICATION_TEXT, seedIdentification } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TestClient } from './support/ws-client.js';

describe('an agent event reaches every websocket client of every endpoint', () => {
  let stack: TestStack;
  /** Between the gateway and NATS: what the gateway asks of NATS is counted. */
  let gatewayNats: TcpProxy;

  beforeAll(async () => {
    gatewayNats = await TcpProxy.start(4222);
    stack = await TestStack.start({ appEnv: { 'websocket-gateway': { WS_PING_INTERVAL: '1s', NATS_URL: `nats://127.0.0.1:${gatewayNats.port}` } } });
  });

  afterAll(async () => {
    await stack?.stop();
    await gatewayNats?.close();
  });

  it('delivers the seed example, every field and value, to two clients of one endpoint and to a client of another', async () => {
    const first = await stack.createWebsocketEndpoint('first');
    const second = await stack.createWebsocketEndpoint('second');
    const clients = await Promise.all([first, first, second].map((id) => TestClient.connect(stack.websocketUrl(id))));
    await stack.waitForConfig();

    await stack.publishAgentEvent(seedIdentification().camera.agent_id, SEED_IDENTIFICATION_TEXT);

    for (const client of clients) {
      await client.waitForEvents(1);
      expect(client.frames[0]!.binary).toBe(false);
      expect(client.events).toEqual([seedIdentification()]);
      // Nothing was added, so the frame is the very text the agent sent.
      expect(client.frames[0]!.text).toBe(SEED_IDENTIFICATION_TEXT);
    }
    clients.forEach((client) => client.close());
  });

  it('fills the image links an agent did not send from the public base URL, signed', async () => {
    const endpoint = await stack.createWebsocketEndpoint();
    const client = await TestClient.connect(stack.websocketUrl(endpoint));
    await stack.waitForConfig();
    const event = freshEvent({ withoutLinks: true });

    const response = await stack.postEvent(JSON.stringify(event));

    expect(response.status).toBe(202);
    await client.waitForEvents(1);
    const [delivered] = client.events;
    const signedLink = (imageId: unknown) => expect.stringMatching(new RegExp(`^${stack.publicBaseUrl}/event-service/get-image/${imageId}\\?expires=\\d+&signature=[\\w-]+$`));
    expect(delivered!.event).toEqual({ ...event.event, image_link: signedLink(event.event.image), original_image_link: signedLink(event.event.original_image) });
    expect(Object.keys(delivered!.event)).toEqual(Object.keys(seedIdentification().event));
    client.close();
  });

  it('delivers a non-identification event without a candidates key', async () => {
    const endpoint = await stack.createWebsocketEndpoint();
    const client = await TestClient.connect(stack.websocketUrl(endpoint));
    await stack.waitForConfig();
    const event = freshEvent({ type: 'non_identification' });

    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);

    await client.waitForEvents(1);
    expect(client.events[0]).toEqual(event);
    expect('candidates' in client.events[0]!).toBe(false);
    client.close();
  });

  it('refuses unknown endpoint ids from its view alone: a hundred of them cost the gateway no NATS request', async () => {
    // A new endpoint can be connected to as soon as its creation returns (every gateway holds it by then).
    const known = await stack.createWebsocketEndpoint('just made');
    const client = await TestClient.connect(stack.websocketUrl(known));
    const unknown = Array.from({ length: 100 }, () => randomUUID());
    gatewayNats.record();
    for (const endpointId of unknown) {
      expect(await TestClient.refused(stack.websocketUrl(endpointId))).toEqual({ code: 4404, reason: 'unknown endpoint_id' });
    }
    // A look-up in the config bucket names its key, `endpoints.<id>`, in what the gateway sends; the gateway's
    // own background traffic (heartbeats, its feeds' pulls) names none of these ids.
    const sent = gatewayNats.stopRecording();
    expect(unknown.filter((endpointId) => sent.includes(endpointId))).toEqual([]);
    client.close();
  });

  it('refuses an unknown, a malformed and a webhook endpoint_id with a close code and a reason', async () => {
    const webhookId = await stack.createWebhookEndpoint('https://receiver.test/hook');

    expect(await TestClient.refused(stack.websocketUrl(randomUUID()))).toEqual({ code: 4404, reason: 'unknown endpoint_id' });
    expect(await TestClient.refused(stack.websocketUrl('not-an-id'))).toEqual({ code: 4400, reason: 'endpoint_id must be a UUID' });
    expect(await TestClient.refused(stack.websocketUrl(webhookId))).toEqual({
      code: 4409,
      reason: 'endpoint is not a websocket endpoint',
    });
  });

  it('keeps delivering to the other clients when one leaves', async () => {
    const endpoint = await stack.createWebsocketEndpoint();
    const leaving = await TestClient.connect(stack.websocketUrl(endpoint));
    const staying = await TestClient.connect(stack.websocketUrl(endpoint));
    await stack.waitForConfig();
    await stack.postEvent(JSON.stringify(freshEvent()));
    await Promise.all([leaving.waitForEvents(1), staying.waitForEvents(1)]);

    leaving.socket.terminate();
    const after = freshEvent();
    await stack.postEvent(JSON.stringify(after));

    await staying.waitForEvents(2);
    expect(staying.eventIds()[1]).toBe(after.event.id);
    staying.close();
  });

  it('closes a peer that stops answering pings with 4002 and keeps the live ones', async () => {
    const endpoint = await stack.createWebsocketEndpoint();
    const live = await TestClient.connect(stack.websocketUrl(endpoint));
    const dead = await TestClient.connect(stack.websocketUrl(endpoint), { answersPings: false });
    await stack.waitForConfig();

    expect(await dead.waitForClose()).toEqual({ code: 4002, reason: 'no answer to the last ping' });

    const event = freshEvent();
    await stack.postEvent(JSON.stringify(event));
    await live.waitForEvents(1);
    expect(live.eventIds()).toEqual([event.event.id]);
    expect(live.closeEvent).toBeNull();
    live.close();
  });

  it('closes the clients of a deleted endpoint with 4410 and refuses new ones', async () => {
    const endpoint = await stack.createWebsocketEndpoint();
    const client = await TestClient.connect(stack.websocketUrl(endpoint));
    await stack.waitForConfig();

    const deleted = await stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: endpoint });

    expect(deleted.data.deleteEndpoint).toBe(true);
    expect(await client.waitForClose()).toEqual({ code: 4410, reason: 'endpoint deleted' });
    expect(await TestClient.refused(stack.websocketUrl(endpoint))).toEqual({ code: 4404, reason: 'unknown endpoint_id' });
  });
});
