import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshEvent, seedIdentification, type EventJson } from './support/fixtures.js';
import { OwnNatsServer } from './support/nats-server.js';
import { Receiver } from './support/receiver.js';
import { TestStack } from './support/stack.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const LOST = `query($id: ID!) { lostEvents(filters: { id: { exact: $id } }) { totalCount collectionItems { id reason deletedProfileIds } } }`;
const ATTEMPTS = 'query($id: ID!) { deliveryAttempts(filters: { eventId: { exact: $id } }) { totalCount collectionItems { outcome statusCode } } }';

/** An identification whose one candidate is `profileId`. */
function identificationOf(profileId: string, camera: string): EventJson {
  const event = freshEvent();
  event.camera.id = camera;
  const template = seedIdentification().candidates[0];
  event.candidates = [{ ...template, profile: { ...template.profile, id: profileId } }];
  return event;
}

/**
 * PostgreSQL away (cut through a TCP proxy, never stopped): webhooks keep
 * flowing, the apps say they are not ready, nothing goes to the dead letters,
 * no profile deletion is skipped, and everything is in PostgreSQL once it is
 * back.
 */
describe('outages: PostgreSQL away', () => {
  let stack: TestStack;
  let postgres: TcpProxy;
  let receiver: Receiver;
  let camera: string;

  beforeAll(async () => {
    postgres = await TcpProxy.start(5432);
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'],
      env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${postgres.port}/test`, WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
      appEnv: { 'webhook-dispatcher': { WEBHOOK_RETRY_SCHEDULE: '300ms,600ms' } },
    });
    receiver = await Receiver.start();
    const endpointId = await stack.createWebhookEndpoint(receiver.url, 'outage');
    camera = randomUUID();
    await stack.createEventFilter({ name: 'camera', endpointIds: [endpointId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
  });

  afterAll(async () => {
    postgres?.restore();
    await receiver?.close();
    await stack?.stop();
    await postgres?.close();
  });

  const received = () => receiver.requests.map((request) => request.headers['webhook-id']);
  const deadLetters = async () => {
    const nats = await stack.natsClient();
    return (await nats.manager.streams.info(nats.topology.streams.deadLetters)).state.messages;
  };

  it('keeps webhooks flowing, applies a deletion made meanwhile, and catches up once PostgreSQL is back', async () => {
    const profile = randomUUID();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [{ id: randomUUID(), color: null }] } });

    postgres.cut();
    for (const app of ['webhook-dispatcher', 'profile-sync', 'api'] as const) {
      await waitFor(async () => (await stack.readiness(app)).checks.postgres === false, { what: `${app} to report PostgreSQL unreachable` });
    }

    await stack.publishProfile({ deleted: { id: profile } });
    const ofDeleted = identificationOf(profile, camera);
    const fresh = freshEvent();
    fresh.camera.id = camera;
    for (const event of [ofDeleted, fresh]) expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);

    // Signed and sent without PostgreSQL: it arrives while the cut lasts.
    await waitFor(() => received().includes(fresh.event.id), { what: 'the webhook during the outage' });
    const duringOutage = await stack.graphql(LOST, { id: ofDeleted.event.id });
    expect(duringOutage.errors?.[0]?.extensions.code).toBe('UNAVAILABLE');

    postgres.restore();
    // The deletion was not skipped: the event of the deleted profile is a lost event, not a delivery.
    await waitFor(async () => (await stack.graphql(LOST, { id: ofDeleted.event.id })).data?.lostEvents.totalCount === 1, { what: 'the lost event in PostgreSQL' });
    const lost = await stack.graphql(LOST, { id: ofDeleted.event.id });
    expect(lost.data.lostEvents.collectionItems[0]).toMatchObject({ reason: 'ALL_CANDIDATES_DELETED', deletedProfileIds: [profile] });
    // Decided as lost (stored above), so it can never be delivered later either.
    expect(received()).not.toContain(ofDeleted.event.id);
    // The attempt made during the outage is in the delivery log.
    await waitFor(async () => (await stack.graphql(ATTEMPTS, { id: fresh.event.id })).data?.deliveryAttempts.totalCount === 1, { what: 'the attempt in the delivery log' });
    expect((await stack.graphql(ATTEMPTS, { id: fresh.event.id })).data.deliveryAttempts.collectionItems).toEqual([{ outcome: 'SUCCEEDED', statusCode: 204 }]);
    await waitFor(async () => (await stack.readiness('webhook-dispatcher')).ready && (await stack.readiness('profile-sync')).ready, { what: 'the apps to be ready again' });
    expect(received().filter((id) => id === fresh.event.id)).toHaveLength(1);
    expect(await deadLetters()).toBe(0);
  });

  it('never misses a deletion still waiting for PostgreSQL when profile-sync restarted before it was written', async () => {
    const profile = randomUUID();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [{ id: randomUUID(), color: null }] } });
    const marker = freshEvent();
    marker.camera.id = camera;
    await stack.postEvent(JSON.stringify(marker));
    await waitFor(() => received().includes(marker.event.id), { what: 'the upsert to be applied (the marker behind it delivered)' });

    postgres.cut();
    await stack.publishProfile({ deleted: { id: profile } });
    // profile-sync has the deletion in hand and cannot write it: it retries, unacknowledged.
    await waitFor(async () => (await stack.readiness('profile-sync')).consumers['profile-sync'].retried > 0, { what: 'the deletion to be retried' });
    await stack.kill('profile-sync');
    postgres.restore();

    const ofDeleted = identificationOf(profile, camera);
    const after = freshEvent();
    after.camera.id = camera;
    for (const event of [ofDeleted, after]) expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    await stack.startApp('profile-sync');

    await waitFor(() => received().includes(after.event.id), { what: 'the event behind it' });
    await waitFor(async () => (await stack.graphql(LOST, { id: ofDeleted.event.id })).data?.lostEvents.totalCount === 1, { what: 'the lost event' });
    expect(received()).not.toContain(ofDeleted.event.id);
    expect(await deadLetters()).toBe(0);
  });

  it('starts the dispatcher while PostgreSQL is away, and sends fresh deliveries without it', async () => {
    await stack.kill('webhook-dispatcher');
    postgres.cut();
    await stack.startApp('webhook-dispatcher', { ready: false });
    await waitFor(async () => (await stack.readiness('webhook-dispatcher')).checks['consumer:webhook-dispatcher'] === true, { what: 'the dispatcher to consume' });
    expect((await stack.readiness('webhook-dispatcher')).checks.postgres).toBe(false);

    const event = freshEvent();
    event.camera.id = camera;
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    await waitFor(() => received().includes(event.event.id), { what: 'the webhook sent by a dispatcher that never reached PostgreSQL' });
    postgres.restore();
    await waitFor(async () => (await stack.readiness('webhook-dispatcher')).ready, { what: 'the dispatcher to be ready once PostgreSQL is back' });
    await waitFor(async () => (await stack.graphql(ATTEMPTS, { id: event.event.id })).data?.deliveryAttempts.totalCount === 1, { what: 'the attempt in the delivery log' });
  });

  it('parks a failure made during the outage once PostgreSQL is back, and sends each attempt once', async () => {
    const flaky = await Receiver.start((index) => ({ status: index === 0 ? 500 : 200 }));
    try {
      const flakyEndpoint = await stack.createWebhookEndpoint(flaky.url, 'flaky');
      const flakyCamera = randomUUID();
      await stack.createEventFilter({ name: 'flaky', endpointIds: [flakyEndpoint], in: { cameraIds: [flakyCamera] } });
      await stack.waitForConfig();

      postgres.cut();
      const event = freshEvent();
      event.camera.id = flakyCamera;
      expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
      await waitFor(() => flaky.requests.length === 1, { what: 'the first attempt, during the outage' });
      postgres.restore();

      await waitFor(() => flaky.requests.some((request) => request.status === 200), { what: 'the retry, once PostgreSQL is back' });
      await waitFor(async () => (await stack.graphql(ATTEMPTS, { id: event.event.id })).data?.deliveryAttempts.totalCount === 2, { what: 'both attempts in the log' });
      const attempts = (await stack.graphql(ATTEMPTS, { id: event.event.id })).data.deliveryAttempts.collectionItems;
      expect(attempts.map((attempt: { outcome: string }) => attempt.outcome).sort()).toEqual(['RETRYING', 'SUCCEEDED']);
      // One request per attempt the dispatcher decided to make: the outage added none.
      expect(flaky.requests).toHaveLength(2);
    } finally {
      await flaky.close();
    }
  });
});

describe('outages: NATS restarted', () => {
  let stack: TestStack;
  let nats: OwnNatsServer;

  beforeAll(async () => {
    nats = await OwnNatsServer.start();
    stack = await TestStack.start({ apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway'], env: { NATS_URL: nats.url } });
  });

  afterAll(async () => {
    await stack?.stop();
    await nats?.stop();
  });

  it('reports not ready while NATS is away, resumes the config watch and the delivery feed, and applies config made after', async () => {
    const before = await stack.createWebsocketEndpoint('before');
    const connected = await TestClient.connect(stack.websocketUrl(before));
    await waitFor(async () => (await stack.readiness('filter-router')).endpoints === 1, { what: 'the router to know the endpoint' });

    await nats.halt();
    for (const app of ['filter-router', 'websocket-gateway'] as const) {
      await waitFor(async () => (await stack.readiness(app)).ready === false, { what: `${app} to report not ready` });
    }
    await nats.resume();
    for (const app of ['filter-router', 'websocket-gateway', 'ingest', 'profile-sync', 'api'] as const) {
      await waitFor(async () => (await stack.readiness(app)).ready, { timeoutMs: 30_000, what: `${app} to be ready again` });
    }

    // A change made after the restart reaches the router only through a resumed watch.
    const after = await stack.createWebsocketEndpoint('after');
    const newClient = await TestClient.connect(stack.websocketUrl(after));
    await waitFor(async () => (await stack.readiness('filter-router')).endpoints === 2, { what: 'the router to apply the endpoint created after the restart' });
    const event = freshEvent();
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    // The client connected throughout and the new one both get it: the feed resumed.
    await connected.waitForEvents(1, 30_000);
    await newClient.waitForEvents(1, 30_000);
    expect(connected.eventIds()).toEqual([event.event.id]);
    expect(newClient.eventIds()).toEqual([event.event.id]);
    connected.close();
    newClient.close();
  });
});

describe('outages: state on the NATS server lost', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway'] });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('routes on when the consumer its reader reads with is deleted on the server', async () => {
    const client = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint()));
    await stack.waitForConfig();
    const nats = await stack.natsClient();

    // The router's replica reads with an ordered consumer of its own (a partitioned consumer has no durable).
    const readers = [];
    for await (const consumer of nats.manager.consumers.list(nats.topology.streams.routable)) readers.push(consumer.name);
    expect(readers.length).toBeGreaterThan(0);
    for (const reader of readers) await nats.manager.consumers.delete(nats.topology.streams.routable, reader);
    await waitFor(async () => (await stack.readiness('filter-router')).ready, { what: 'filter-router to read on' });

    const event = freshEvent();
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    await client.waitForEvents(1);
    expect(client.eventIds()).toEqual([event.event.id]);
    client.close();
  });
});

/**
 * NATS cut off (through a TCP proxy, never stopped): every app says it is not
 * ready while its connection is gone, still answers /metrics (without the
 * consumer backlog it cannot read), and is ready again once NATS is back.
 */
describe('outages: NATS cut through a proxy', () => {
  const apps = ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'] as const;
  let stack: TestStack;
  let nats: TcpProxy;

  beforeAll(async () => {
    nats = await TcpProxy.start(4222);
    stack = await TestStack.start({ apps, env: { NATS_URL: `nats://127.0.0.1:${nats.port}` } });
  });

  afterAll(async () => {
    nats?.restore();
    await stack?.stop();
    await nats?.close();
  });

  it('fails /readyz of every app while NATS is cut, keeps /metrics answering, and recovers when it is restored', async () => {
    nats.cut();
    for (const app of apps) {
      await waitFor(async () => {
        const readiness = await stack.readiness(app);
        return readiness.ready === false && readiness.checks.nats === false;
      }, { what: `${app} to report NATS unreachable` });
      const metrics = await stack.metrics(app);
      expect(metrics.has('process_cpu_seconds_total')).toBe(true);
      expect(metrics.has('event_service_consumer_pending_messages')).toBe(false);
    }

    nats.restore();
    for (const app of apps) {
      await waitFor(async () => (await stack.readiness(app)).ready, { timeoutMs: 30_000, what: `${app} to be ready again` });
    }
    // And it works again: an event posted now reaches a websocket client.
    const client = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint()));
    await stack.waitForConfig();
    const event = freshEvent();
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    await client.waitForEvents(1, 30_000);
    expect(client.eventIds()).toEqual([event.event.id]);
    client.close();
  });
});
