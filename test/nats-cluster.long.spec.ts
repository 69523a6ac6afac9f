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
 * one replica of each app (connected to all three servers), while servers
 * are killed (SIGKILL) mid-stream, one at a time: first the server leading
 * the events stream; once it is back and the stream's copies are current
 * again, another server that leads no copy of the events stream. The agent
 * retries what ingest refuses (503) as agents do, a websocket client
 * resumes with last_event_id when its connection drops, and every event
 * reaches the webhook receiver and the client, the client in the order
 * they were posted. Duplicates may come only from what was in flight at a
 * kill: at each kill, the events posted and not yet at the receiver, and
 * a second of events besides (what a replica did since it last wrote its
 * partitions' positions: every quarter second for the dispatcher, at most
 * every second for the others, whose repeats are stored once by message
 * id); more fails the test.
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

  it('loses no event when the events stream’s leader is killed mid-stream, nor when another server is', async () => {
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

    const webhookIds = () => new Set(hook.requests.filter((request) => request.status === 204).map((request) => request.headers['webhook-id'] as string));
    const ids: string[] = [];
    let refused = 0;
    const nats = await stack.natsClient();
    const eventsStream = async () => (await nats.manager.streams.info(nats.topology.streams.events)).cluster!;
    const named = (name: string | undefined) => servers.find((_, position) => `n${position + 1}` === name);
    /** Each kill: when (the receiver's clock), and what was in flight then (posted, not yet at the receiver). */
    const kills: Array<{ server: string; at: number; inFlight: number }> = [];
    let down: OwnNatsServer | null = null;
    const kill = async (victim: OwnNatsServer, name: string, index: number) => {
      await victim.halt('SIGKILL');
      down = victim;
      kills.push({ server: name, at: performance.now(), inFlight: ids.length - webhookIds().size });
      process.stdout.write(`killed ${name} after ${index} events\n`);
    };
    for (let index = 0; index < EVENTS; index += 1) {
      if (index === EVENTS / 4) {
        const { leader } = await eventsStream();
        expect(named(leader)).toBeDefined();
        await kill(named(leader)!, `${leader}, the leader of ${nats.topology.streams.events}`, index);
      }
      if (index === EVENTS / 2) {
        await down!.resume();
        // Back in the cluster and caught up: a second loss now leaves a quorum.
        await waitFor(async () => {
          const cluster = await eventsStream();
          return cluster.leader !== undefined && (cluster.replicas ?? []).length === 2 && cluster.replicas!.every((replica) => replica.current && !replica.offline);
        }, { timeoutMs: 60_000, what: 'every copy of the events stream to be current again' });
      }
      if (index === (EVENTS * 5) / 8) {
        const { leader } = await eventsStream();
        const position = servers.findIndex((server, at) => server !== down && `n${at + 1}` !== leader);
        await kill(servers[position]!, `n${position + 1}, a follower of ${nats.topology.streams.events}`, index);
      }
      if (index === (EVENTS * 7) / 8) await down!.resume();
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

    await waitFor(() => webhookIds().size === EVENTS, { timeoutMs: 120_000, what: `every event at the webhook receiver (have ${webhookIds().size})` });
    await following;
    // The pause each kill cost: the longest wait between two webhook requests after it, before the next kill.
    const pauses = kills.map((entry, position) => {
      const after = [entry.at, ...hook.requests.map((request) => request.at).filter((at) => at >= entry.at && at < (kills[position + 1]?.at ?? Infinity))];
      return Math.round(Math.max(0, ...after.slice(1).map((at, index) => at - after[index]!)));
    });
    const duplicates = { webhook: hook.requests.filter((request) => request.status === 204).length - webhookIds().size, websocket: frames.length - new Set(frames).size };
    const allowed = kills.reduce((sum, entry) => sum + entry.inFlight + RATE, 0);
    process.stdout.write(
      `${EVENTS} events, ${refused} posts refused and retried, ${resumes} websocket resumes; webhook ${hook.requests.length} requests for ${webhookIds().size} events, ` +
        `websocket ${frames.length} frames for ${new Set(frames).size} events; duplicates: webhook ${duplicates.webhook}, websocket ${duplicates.websocket} (allowed ${allowed}); ` +
        kills.map((entry, position) => `killed ${entry.server} with ${entry.inFlight} events in flight, the longest pause between webhook requests after it ${pauses[position]} ms`).join('; ') +
        '\n',
    );
    expect(kills).toHaveLength(2);
    expect(webhookIds()).toEqual(new Set(ids));
    expect(new Set(frames)).toEqual(new Set(ids));
    // The camera's order held through the election and the client's resumes: each event first seen after the one
    // posted before it (a resume may repeat what followed its last_event_id, never reorder it).
    expect([...new Set(frames)]).toEqual(ids);
    expect(duplicates.webhook).toBeLessThanOrEqual(allowed);
    expect(duplicates.websocket).toBeLessThanOrEqual(allowed);
    const deadLetters = await stack.graphql('{ deadLetters { totalCount collectionItems { app reason detail } } }');
    expect(deadLetters.data.deadLetters.collectionItems).toEqual([]);
  }, 420_000);
});
