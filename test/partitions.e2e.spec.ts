import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { idKey } from '@app/events';
import { DEFAULT_PARTITIONS, partitionOf } from '@app/messaging';
import { freshEvent, seedIdentification, type EventJson } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { DATABASE_URL, TestStack, type Instance } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const encoder = new TextEncoder();
const LOST = `query($id: ID!) { lostEvents(filters: { id: { exact: $id } }) { totalCount } }`;

/** The apps that read in partitions by camera or agent, with their consumer's name. */
const PARTITIONED = { ingest: 'ingest', 'profile-sync': 'profile-sync', 'filter-router': 'filter-router', 'webhook-dispatcher': 'webhook-dispatcher' } as const;
type PartitionedApp = keyof typeof PARTITIONED;

/**
 * Two replicas of every app that reads in partitions (ingest by agent,
 * profile-sync and filter-router by camera, the dispatcher by endpoint):
 * each camera's events reach a websocket client and each webhook endpoint in
 * the order the agent published them; a profile deletion is applied by
 * both profile-sync replicas before any later event; each app's partitions
 * move to an added replica and from a stopping one without a message
 * handled twice; a gateway reads the deliveries of its clients' endpoints
 * only; and an endpoint's first attempts parked in the ledger (paused, or
 * its rate used up) go out in their order, before later ones, across a
 * partition's move.
 */
describe('partitions: any number of replicas, each camera in order', () => {
  let stack: TestStack;
  const replicas = {} as Record<PartitionedApp, Instance[]>;
  /** Webhook endpoints (each with a receiver of its own), at least one in each dispatcher replica's partitions. */
  const hooks: Array<{ endpointId: string; receiver: Receiver }> = [];
  let client: TestClient;
  let websocketId: string;

  const held = async (instance: Instance, app: PartitionedApp) => ((await stack.readiness(instance)).consumers[PARTITIONED[app]]?.partitions ?? []) as number[];
  /** A fresh id whose partition is one of `partitions`. */
  const idIn = (partitions: number[]): string => {
    for (;;) {
      const id = randomUUID();
      if (partitions.includes(partitionOf(idKey(id), DEFAULT_PARTITIONS))) return id;
    }
  };

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
      appEnv: {
        // One request at a time per endpoint: the receiver sees the first attempts in the order they were sent.
        'webhook-dispatcher': { WEBHOOK_ENDPOINT_CONCURRENCY: '1' },
        'websocket-gateway': { WS_FEED_LINGER: '300ms' },
      },
    });
    const added = await Promise.all((Object.keys(PARTITIONED) as PartitionedApp[]).map((app) => stack.startReplica(app)));
    (Object.keys(PARTITIONED) as PartitionedApp[]).forEach((app, index) => (replicas[app] = [app, added[index]!]));
    for (const app of Object.keys(PARTITIONED) as PartitionedApp[]) {
      await waitFor(
        async () => {
          const [first, second] = await Promise.all(replicas[app].map((instance) => held(instance, app)));
          return first!.length > 0 && second!.length > 0 && first!.length + second!.length === DEFAULT_PARTITIONS;
        },
        { what: `the two ${app} replicas to share the partitions` },
      );
    }
    // Endpoint ids are the api's to choose: endpoints are made until each dispatcher replica holds one.
    const dispatcherShares = await Promise.all(replicas['webhook-dispatcher'].map((instance) => held(instance, 'webhook-dispatcher')));
    while (!dispatcherShares.every((share) => hooks.some((hook) => share.includes(partitionOf(idKey(hook.endpointId), DEFAULT_PARTITIONS))))) {
      expect(hooks.length).toBeLessThan(16);
      const receiver = await Receiver.start();
      hooks.push({ endpointId: await stack.createWebhookEndpoint(receiver.url, `in order ${hooks.length}`), receiver });
    }
    websocketId = await stack.createWebsocketEndpoint('in order');
    client = await TestClient.connect(stack.websocketUrl(websocketId));
    await stack.waitForConfig();
  });

  afterAll(async () => {
    client?.close();
    await Promise.all(hooks.map((hook) => hook.receiver.close()));
    await stack?.stop();
  });

  it("keeps each camera's events in the order its agent published them, through two replicas of each app", async () => {
    // Two agents, one in each ingest replica's partitions; cameras spread over both replicas of profile-sync and of the router.
    const agents = [idIn(await held(replicas.ingest[0]!, 'ingest')), idIn(await held(replicas.ingest[1]!, 'ingest'))];
    const shares = await Promise.all(
      (['profile-sync', 'filter-router'] as const).flatMap((app) => replicas[app].map((instance) => held(instance, app))),
    );
    const cameras = [...shares, ...shares].map((partitions) => idIn(partitions));
    const cameraAgent = new Map(cameras.map((camera, index) => [camera, agents[index % 2]!]));
    const nats = await stack.natsClient();
    const published: EventJson[] = [];
    for (let index = 0; index < 160; index += 1) {
      const camera = cameras[(index * 7 + Math.floor(index / 3)) % cameras.length]!;
      const event = freshEvent({ agentId: cameraAgent.get(camera)!, type: 'non_identification' });
      event.camera.id = camera;
      // Not awaited one by one: the agent's publishes are stored in the order it sent them.
      published.push(event);
    }
    await Promise.all(published.map((event) => nats.jetstream.publish(nats.topology.agentEvents(event.camera.agent_id), encoder.encode(JSON.stringify(event)))));

    await client.waitForEvents(published.length);
    const webhookIds = (receiver: Receiver) => receiver.requests.map((request) => request.headers['webhook-id']!);
    await waitFor(() => hooks.every((hook) => new Set(webhookIds(hook.receiver)).size === published.length), { what: 'every webhook' });
    const byCamera = (ids: string[]) => {
      const camera = new Map(published.map((event) => [event.event.id as string, event.camera.id as string]));
      const orders = new Map<string, string[]>();
      for (const id of ids) orders.set(camera.get(id)!, [...(orders.get(camera.get(id)!) ?? []), id]);
      return orders;
    };
    const expected = byCamera(published.map((event) => event.event.id));
    expect(byCamera(client.eventIds())).toEqual(expected);
    // Each endpoint's first attempts, whichever dispatcher replica holds it (those parked for a busy endpoint included).
    for (const hook of hooks) expect(byCamera([...new Set(webhookIds(hook.receiver))])).toEqual(expected);
    // Every replica had its share of the work.
    for (const app of Object.keys(PARTITIONED) as PartitionedApp[]) {
      for (const instance of replicas[app]) expect([instance, (await stack.readiness(instance)).consumers[PARTITIONED[app]].done > 0]).toEqual([instance, true]);
    }
  });

  it('applies a profile deletion in both profile-sync replicas before any event stored after it, whatever its partition', async () => {
    const profile = randomUUID();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [{ id: randomUUID(), color: null }] } });
    await stack.publishProfile({ deleted: { id: profile } });
    // An identification of the deleted profile on a camera of each replica's partitions, then a marker behind it.
    const template = seedIdentification().candidates[0];
    const ofDeleted: EventJson[] = [];
    const markers: EventJson[] = [];
    for (const instance of replicas['profile-sync']) {
      const camera = idIn(await held(instance, 'profile-sync'));
      const event = freshEvent();
      event.camera.id = camera;
      event.candidates = [{ ...template, profile: { ...template.profile, id: profile } }];
      const marker = freshEvent({ type: 'non_identification' });
      marker.camera.id = camera;
      ofDeleted.push(event);
      markers.push(marker);
    }
    for (const event of [...ofDeleted, ...markers]) expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);

    await waitFor(() => markers.every((marker) => client.eventIds().includes(marker.event.id)), { what: 'the markers' });
    for (const event of ofDeleted) {
      await waitFor(async () => (await stack.graphql(LOST, { id: event.event.id })).data?.lostEvents.totalCount === 1, { what: 'a lost event' });
      expect(client.eventIds()).not.toContain(event.event.id);
    }
  });

  it('hands partitions of every partitioned app to an added replica and from a stopping one while events flow: each taken where the last holder stopped, none handled twice', async () => {
    // Agents publish on NATS (so ingest's partitions are read too), each camera on one agent, in order.
    const agents = Array.from({ length: 3 }, () => randomUUID());
    const cameras = Array.from({ length: 6 }, () => randomUUID());
    const posted: EventJson[] = [];
    let flowing = true;
    const load = (async () => {
      for (let index = 0; flowing; index += 1) {
        const camera = index % cameras.length;
        const event = freshEvent({ agentId: agents[camera % agents.length]!, type: 'non_identification' });
        event.camera.id = cameras[camera]!;
        posted.push(event);
        await stack.publishAgentEvent(event.camera.agent_id, JSON.stringify(event));
        // Paced (about 50 events/s): the run stays small, as each webhook endpoint takes one request at a time.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const apps = Object.keys(PARTITIONED) as PartitionedApp[];
    // A third replica of each app takes its share; then each app's second replica stops (SIGTERM) and hands its partitions over.
    const thirds = await Promise.all(apps.map((app) => stack.startReplica(app)));
    for (const [index, app] of apps.entries()) {
      await waitFor(async () => (await held(thirds[index]!, app)).length > 0, { what: `the added ${app} replica to take its partitions` });
    }
    await Promise.all(apps.map((app) => stack.kill(replicas[app][1]!, 'SIGTERM')));
    for (const [index, app] of apps.entries()) {
      const remaining = [replicas[app][0]!, thirds[index]!];
      await waitFor(async () => (await Promise.all(remaining.map((instance) => held(instance, app)))).flat().length === DEFAULT_PARTITIONS, {
        what: `the stopped ${app} replica’s partitions to be taken`,
      });
    }
    flowing = false;
    await load;
    const ids = new Set(posted.map((event) => event.event.id));
    const webhookIds = (receiver: Receiver) => receiver.requests.map((request) => request.headers['webhook-id']!).filter((id) => ids.has(id));
    await waitFor(() => posted.every((event) => client.eventIds().includes(event.event.id)), { what: 'every event of the run at the websocket client' });
    // An attempt from the ledger that fails on the dispatcher's side (its outcome not stored in time on a loaded machine)
    // keeps its claim until the claim expires (twice WEBHOOK_TIMEOUT and 5 s, so that it is not sent twice), and the
    // endpoint's later first attempts wait behind it: the wait allows for one such claim.
    const claimExpires = 2 * 15_000 + 5_000;
    await waitFor(() => hooks.every((hook) => new Set(webhookIds(hook.receiver)).size === posted.length), {
      what: 'every event of the run at each webhook endpoint',
      timeoutMs: claimExpires + 15_000,
    }).catch(
      async (error: Error) => {
        throw new Error(`${error.message}\n${await webhookLag(posted.length, webhookIds, [...Object.values(replicas).flat(), ...thirds])}`);
      },
    );
    await stack.waitForRoutingDone();

    // In order per camera, once each: at the websocket client and at every webhook endpoint (a delivery the
    // dispatcher parked before its first attempt, its receiver slow to answer on a loaded machine, included).
    const inOrder = (received: string[]) => {
      expect(new Set(received).size).toBe(received.length);
      for (const camera of cameras) {
        expect(received.filter((id) => posted.find((event) => event.event.id === id)?.camera.id === camera)).toEqual(
          posted.filter((event) => event.camera.id === camera).map((event) => event.event.id),
        );
      }
    };
    inOrder(client.eventIds().filter((id) => ids.has(id)));
    for (const hook of hooks) inOrder(webhookIds(hook.receiver));
    // Every handover of every app: the partition was taken at the very position where its last holder handed it over.
    for (const [index, app] of apps.entries()) {
      const logs = [...replicas[app], thirds[index]!].map((instance) => readFileSync(stack.logFileOf(instance), 'utf8')).join('\n');
      const handedOver = [...logs.matchAll(new RegExp(`handed partition (\\d+) of ${PARTITIONED[app]} over at stream sequence (\\d+)`, 'g'))];
      expect([app, handedOver.length > 0]).toEqual([app, true]);
      for (const [, partition, position] of handedOver) {
        expect([app, logs]).toEqual([app, expect.stringMatching(new RegExp(`took partition ${partition} of ${PARTITIONED[app]} at stream sequence ${position}\\b`))]);
      }
    }
    // None handled twice by the router: what its three replicas did adds up to the routable events, once each.
    const [first, second] = replicas['filter-router'] as [Instance, Instance];
    const third = thirds[apps.indexOf('filter-router')]!;
    const done = async (instance: Instance) => (await stack.readiness(instance)).consumers['filter-router'].done as number;
    const stopped = Number(/Partitions:filter-router.*stopped: (\d+) messages done/.exec(readFileSync(stack.logFileOf(second), 'utf8'))![1]);
    const nats = await stack.natsClient();
    const routable = (await nats.manager.streams.info(nats.topology.streams.routable)).state.messages;
    expect(stopped + (await done(first)) + (await done(third))).toBe(routable);
    for (const [index, app] of apps.entries()) replicas[app] = [replicas[app][0]!, thirds[index]!];
    // Room for the waits above (the webhooks' allows for a claim held until it expires) within the test's own limit.
  }, 150_000);

  it('reads on a gateway the deliveries of the endpoints it has clients of, and no others', async () => {
    const unwatched = await stack.createWebsocketEndpoint('nobody connected');
    await stack.waitForConfig();
    const forwardedBefore = (await stack.readiness('websocket-gateway')).forwarded as number;
    const events = Array.from({ length: 5 }, () => freshEvent({ type: 'non_identification' }));
    for (const event of events) expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    await waitFor(() => events.every((event) => client.eventIds().includes(event.event.id)), { what: 'the connected endpoint’s deliveries' });
    await stack.waitForRoutingDone();

    const readiness = await stack.readiness('websocket-gateway');
    // One feed, for the connected client's endpoint; the other endpoint's deliveries (stored all the same) were never read.
    expect(Object.keys(readiness.feeds)).toEqual([idKey(websocketId)]);
    expect(readiness.forwarded - forwardedBefore).toBe(events.length);
    const nats = await stack.natsClient();
    const stored = await nats.manager.streams.getMessage(nats.topology.streams.deliveries, { last_by_subj: nats.topology.websocketDeliveries(idKey(unwatched)) });
    expect(stored).not.toBeNull();
    const filters = [];
    for await (const consumer of nats.manager.consumers.list(nats.topology.streams.deliveries)) filters.push(consumer.config.filter_subject);
    expect(filters).not.toContain(nats.topology.websocketDeliveries(idKey(unwatched)));
    expect(filters).toContain(nats.topology.websocketDeliveries(idKey(websocketId)));

    // The last client gone, the feed closes after its linger: the replica reads nothing of websocket deliveries.
    client.close();
    await waitFor(async () => Object.keys((await stack.readiness('websocket-gateway')).feeds).length === 0, { what: 'the feed to close' });
  });

  /** What a webhook endpoint still waits for, should it fall behind: how many arrived, its rows in the ledger, and what the dispatchers warned of. */
  async function webhookLag(expected: number, received: (receiver: Receiver) => string[], instances: Instance[]): Promise<string> {
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      const lines: string[] = [];
      for (const hook of hooks) {
        const { rows } = await db.query(
          `SELECT attempt, first_seq IS NOT NULL AS in_order, held, locked_until > now() AS claimed, next_attempt_at > now() AS later FROM ${stack.schema}.delivery_retry WHERE endpoint_id = $1 AND failed_at IS NULL ORDER BY first_seq NULLS LAST, next_attempt_at LIMIT 5`,
          [hook.endpointId],
        );
        lines.push(`${hook.endpointId}: ${new Set(received(hook.receiver)).size} of ${expected} arrived; first rows waiting in the ledger: ${JSON.stringify(rows)}`);
      }
      for (const instance of instances.filter((instance) => instance.startsWith('webhook-dispatcher'))) {
        const warnings = readFileSync(stack.logFileOf(instance), 'utf8').split('\n').filter((line) => /WARN|ERROR/.test(line) && !line.includes('SECRET_KEYS'));
        lines.push(`${instance}: ${warnings.slice(-10).join('\n  ') || 'no warnings'}`);
      }
      return lines.join('\n');
    } finally {
      await db.end();
    }
  }

  /** A webhook endpoint of its own camera's events (`maxRatePerSecond` if given), and ways to post them one after another or publish them at once. */
  async function ownCameraHook(maxRatePerSecond?: number) {
    const receiver = await Receiver.start();
    const created = await stack.graphql('mutation($url: String!, $rate: Int) { createWebhookEndpoint(name: "own camera", url: $url, maxRatePerSecond: $rate) { id } }', {
      url: receiver.url,
      rate: maxRatePerSecond ?? null,
    });
    const endpointId = created.data.createWebhookEndpoint.id as string;
    hooks.push({ endpointId, receiver });
    const camera = randomUUID();
    await stack.createEventFilter({ endpointIds: [endpointId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    const sent: string[] = [];
    const post = async (count: number) => {
      for (let index = 0; index < count; index += 1) {
        const event = freshEvent({ type: 'non_identification' });
        event.camera.id = camera;
        expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
        sent.push(event.event.id);
      }
    };
    /** Publishes `count` events at once, as an agent over NATS: the stream stores them in the order they were sent. */
    const burst = async (count: number) => {
      const nats = await stack.natsClient();
      const acks = Array.from({ length: count }, () => {
        const event = freshEvent({ type: 'non_identification' });
        event.camera.id = camera;
        sent.push(event.event.id);
        return nats.jetstream.publish(nats.topology.agentEvents(event.camera.agent_id), new TextEncoder().encode(JSON.stringify(event)));
      });
      await Promise.all(acks);
    };
    /** The event ids of its first attempts, in the order they arrived (a retry repeats an id). */
    const firstAttempts = () => [...new Set(receiver.requests.map((request) => request.headers['webhook-id']!))];
    return { endpointId, sent, post, burst, firstAttempts };
  }

  it("keeps a paused endpoint's first attempts in order when its partition moves to another replica: those held go before later ones", async () => {
    const hook = await ownCameraHook();
    await stack.graphql('mutation($id: ID!) { pauseEndpoint(id: $id) { state } }', { id: hook.endpointId });
    await stack.waitForConfig();
    await hook.post(15);
    await stack.waitForRoutingDone();
    const nats = await stack.natsClient();
    await waitFor(() => stack.caughtUp(nats.topology.streams.deliveries, 'webhook-dispatcher', nats.topology.allWebhookDeliveries), { what: 'the dispatcher to hold every delivery' });

    // The replica holding the endpoint's partition stops; the other takes it, and learns from the ledger that first attempts wait there.
    const partition = partitionOf(idKey(hook.endpointId), DEFAULT_PARTITIONS);
    const shares = await Promise.all(replicas['webhook-dispatcher'].map((instance) => held(instance, 'webhook-dispatcher')));
    const holder = replicas['webhook-dispatcher'][shares.findIndex((share) => share.includes(partition))]!;
    const other = replicas['webhook-dispatcher'].find((instance) => instance !== holder)!;
    await stack.kill(holder, 'SIGTERM');
    await waitFor(async () => (await held(other, 'webhook-dispatcher')).length === DEFAULT_PARTITIONS, { what: 'the other replica to take every partition' });
    replicas['webhook-dispatcher'] = [other];

    // Events stored after the resume (every replica knows of it) go out after those held before it.
    await stack.graphql('mutation($id: ID!) { resumeEndpoint(id: $id) { state } }', { id: hook.endpointId });
    await stack.waitForConfig();
    await hook.post(15);
    await waitFor(() => hook.firstAttempts().length === hook.sent.length, { what: 'every delivery' });
    expect(hook.firstAttempts()).toEqual(hook.sent);
  });

  it("sends a rate-capped endpoint's backlog in the order of its events", async () => {
    const hook = await ownCameraHook(5);
    // Over every replica: whichever holds the endpoint's partition parks its deliveries.
    const behind = async () => {
      const counts = await Promise.all(replicas['webhook-dispatcher'].map(async (instance) => (await stack.metrics(instance)).value('event_service_webhook_parked_total', { reason: 'behind' })));
      return counts.reduce((sum, count) => sum + count, 0);
    };
    const behindBefore = await behind();
    // All at once, four seconds' worth of the endpoint's rate: its rate is used up before the last unless the pipeline
    // took more than three seconds to pass them on (sent one HTTP post at a time, on a loaded machine, they need not be).
    await hook.burst(20);

    await waitFor(() => hook.firstAttempts().length === hook.sent.length, { what: 'every delivery' });
    expect(hook.firstAttempts()).toEqual(hook.sent);
    // Once one waited in the ledger for a token, the later ones were parked behind it, not sent past it.
    expect(await behind()).toBeGreaterThan(behindBefore);
  });
});
