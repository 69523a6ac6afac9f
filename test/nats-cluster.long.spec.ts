import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshEvent } from './support/fixtures.js';
import { startNatsCluster } from './support/nats-cluster.js';
import type { OwnNatsServer } from './support/nats-server.js';
import { Receiver } from './support/receiver.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const EVENTS = 600;
/** Events a second the agent posts: the kill lands while events are on every hop. */
const RATE = 40;

/**
 * The whole pipeline on a three-node JetStream cluster with NATS_REPLICAS=3,
 * one replica of each app (connected to all three servers), while the
 * server leading the events stream is killed (SIGKILL) mid-stream: the
 * agent retries what ingest refuses (503) as agents do, a websocket client
 * resumes with last_event_id when its connection drops, and every event
 * reaches the webhook receiver and the client, the client in the order
 * they were posted. Duplicates are counted and printed, not failed:
 * at-least-once allows them at a fault.
 */
describe('a three-node NATS cluster that loses a server', () => {
  let servers: OwnNatsServer[] = [];
  let stack: TestStack;
  const receiver = Receiver.start();

  beforeAll(async () => {
    servers = await startNatsCluster();
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'],
      nats: { url: servers.map((server) => server.url).join(','), prefix: `c${randomBytes(4).toString('hex')}` },
      env: { NATS_REPLICAS: '3', WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
    });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    await (await receiver).close();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('loses no event when the events stream’s leader is killed mid-stream', async () => {
    const hook = await receiver;
    const camera = randomUUID();
    const webhook = await stack.createWebhookEndpoint(hook.url);
    const websocket = await stack.createWebsocketEndpoint('cluster');
    await stack.createEventFilter({ endpointIds: [webhook, websocket], in: { cameraIds: [camera] } });
    await stack.waitForConfig();

    // A websocket client that resumes after the last event it received when its connection drops.
    const frames: string[] = [];
    let client = await TestClient.connect(stack.websocketUrl(websocket));
    let resumes = 0;
    const following = (async () => {
      while (new Set(frames).size < EVENTS) {
        await waitFor(() => client.closeEvent !== null || new Set([...frames, ...client.eventIds()]).size >= EVENTS, { timeoutMs: 120_000, what: 'the client to close or finish' });
        frames.push(...client.eventIds());
        if (new Set(frames).size >= EVENTS) break;
        resumes += 1;
        client = await waitFor(() => TestClient.connect(stack.websocketUrl(websocket) + `&last_event_id=${frames.at(-1)}`).catch(() => null), { timeoutMs: 60_000, what: 'a resume' });
      }
    })();

    const ids: string[] = [];
    let refused = 0;
    let killedAt = 0;
    const nats = await stack.natsClient();
    for (let index = 0; index < EVENTS; index += 1) {
      if (index === EVENTS / 3) {
        const leader = (await nats.manager.streams.info(nats.topology.streams.events)).cluster?.leader;
        const victim = servers.find((_, position) => `n${position + 1}` === leader);
        expect(victim).toBeDefined();
        await victim!.halt('SIGKILL');
        // The receiver's clock (performance.now()), to compare with its requests' times.
        killedAt = performance.now();
        process.stdout.write(`killed ${leader}, the leader of ${nats.topology.streams.events}, after ${index} events\n`);
      }
      const event = freshEvent();
      event.camera.id = camera;
      ids.push(event.event.id);
      // An agent's retry: the same event again until ingest has stored it.
      for (;;) {
        const answer = await stack.postEvent(JSON.stringify(event)).catch(() => null);
        if (answer?.status === 202) break;
        refused += 1;
        await sleep(200);
      }
      await sleep(1_000 / RATE);
    }

    const webhookIds = () => new Set(hook.requests.filter((request) => request.status === 204).map((request) => request.headers['webhook-id'] as string));
    await waitFor(() => webhookIds().size === EVENTS, { timeoutMs: 120_000, what: `every event at the webhook receiver (have ${webhookIds().size})` });
    await following;
    // The pause the kill cost: the longest wait between two webhook requests after it.
    const after = [killedAt, ...hook.requests.map((request) => request.at).filter((at) => at >= killedAt)];
    const pause = Math.round(Math.max(0, ...after.slice(1).map((at, index) => at - after[index]!)));
    const received = { webhook: hook.requests.length, websocket: frames.length };
    process.stdout.write(
      `${EVENTS} events, ${refused} posts refused and retried, ${resumes} websocket resumes; webhook ${received.webhook} requests for ${webhookIds().size} events, ` +
        `websocket ${received.websocket} frames for ${new Set(frames).size} events; the longest pause between webhook requests after the kill ${pause} ms\n`,
    );
    expect(webhookIds()).toEqual(new Set(ids));
    expect(new Set(frames)).toEqual(new Set(ids));
    // The camera's order held through the election and the client's resumes: each event first seen after the one
    // posted before it (a resume may repeat what followed its last_event_id, never reorder it).
    expect([...new Set(frames)]).toEqual(ids);
    const deadLetters = await stack.graphql('{ deadLetters { totalCount collectionItems { app reason detail } } }');
    expect(deadLetters.data.deadLetters.collectionItems).toEqual([]);
  }, 420_000);
});
