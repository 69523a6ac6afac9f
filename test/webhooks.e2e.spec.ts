import { createServer, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { freshEvent, type EventJson } from './support/fixtures.js';
import { Receiver, type Answer } from './support/receiver.js';
import { ConfigKeys, DURABLES, openConfigBucket, openLeasesBucket, partitionOf, PartitionStore } from '@app/messaging';
import { idKey } from '@app/events';
import pg from 'pg';
import { DATABASE_URL, TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { listenOnFreePort } from './support/ports.js';
import { replayEnded, startReplay } from './support/replays.js';

const SCHEDULE_MS = [300, 600];
const JITTER = 0.1;
const PAUSE_AFTER_FAILURES = 3;

describe('webhook delivery', () => {
  let stack: TestStack;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
      appEnv: {
        'webhook-dispatcher': {
          WEBHOOK_RETRY_SCHEDULE: SCHEDULE_MS.map((ms) => `${ms}ms`).join(','),
          WEBHOOK_TIMEOUT: '20s',
          WEBHOOK_PAUSE_AFTER_FAILURES: String(PAUSE_AFTER_FAILURES),
          WEBHOOK_PROBE_INTERVAL: '300ms',
        },
      },
    });
  });

  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await stack?.stop();
  });

  /** A receiver, and a webhook endpoint pointing at it that receives only the events of its own camera. */
  async function webhookTo(answer?: (index: number) => Answer): Promise<{ receiver: Receiver; endpointId: string; camera: string; secret: () => Promise<string> }> {
    const receiver = await Receiver.start(answer);
    receivers.push(receiver);
    const endpointId = await stack.createWebhookEndpoint(receiver.url);
    const camera = crypto.randomUUID();
    await stack.createEventFilter({ name: 'own camera', endpointIds: [endpointId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    const secret = async () => (await stack.graphql('query($id: ID!) { webhookSecret(endpointId: $id) { secret } }', { id: endpointId })).data.webhookSecret.secret as string;
    return { receiver, endpointId, camera, secret };
  }

  async function send(camera: string) {
    const event = freshEvent();
    event.camera.id = camera;
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    return event;
  }

  /** Waits until the event's delivery has failed for good (its schedule spent). */
  async function failedFor(eventId: string): Promise<void> {
    await waitFor(
      async () => (await stack.graphql('query($id: ID!) { deliveryAttempts(filters: { eventId: { exact: $id }, outcome: { exact: FAILED } }) { totalCount } }', { id: eventId })).data.deliveryAttempts.totalCount === 1,
      { what: 'the delivery to fail' },
    );
  }
  const resend = (endpointId: string, eventId: string) =>
    stack.graphql('mutation($endpointId: ID!, $eventId: ID!) { resendDelivery(endpointId: $endpointId, eventId: $eventId) }', { endpointId, eventId });
  /** Re-delivers the endpoint's deliveries of [from, to] as a replay job; returns how many it sent. */
  const replay = async (endpointId: string, from: Date, to: Date) => {
    const graphql = stack.graphql.bind(stack);
    const job = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REDELIVER', endpointId, from, to })).id);
    expect(job.state).toBe('SUCCEEDED');
    return job.sent;
  };

  it('POSTs the event JSON, signed so that the standardwebhooks package verifies it', async () => {
    const hook = await webhookTo();
    const event = await send(hook.camera);

    await waitFor(() => hook.receiver.requests.length === 1, { what: 'the delivery' });
    const [request] = hook.receiver.requests;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual(event);
    expect(request!.headers['webhook-id']).toBe(event.event.id);
    expect(new Webhook(await hook.secret()).verify(request!.body, request!.headers)).toEqual(event);
  });

  it('retries a receiver that fails twice, with the same webhook-id, the gaps following the schedule', async () => {
    const hook = await webhookTo((index) => ({ status: index < 2 ? 500 : 200 }));
    const event = await send(hook.camera);

    await waitFor(() => hook.receiver.requests.length === 3, { what: 'three attempts' });
    const [first, second, third] = hook.receiver.requests;
    expect(hook.receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([event.event.id, event.event.id, event.event.id]);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(SCHEDULE_MS[0]! * (1 - JITTER));
    expect(third!.at - second!.at).toBeGreaterThanOrEqual(SCHEDULE_MS[1]! * (1 - JITTER));
    const secret = await hook.secret();
    for (const request of hook.receiver.requests) expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
  });

  it('moves a retry later for Retry-After, never earlier than the schedule, never beyond its longest delay', async () => {
    // 0.5 s is later than the first delay (300 ms): honoured.
    const later = await webhookTo((index) => (index === 0 ? { status: 503, headers: { 'retry-after': '0.5' } } : { status: 200 }));
    // Centuries: capped at the longest delay. Zero: the schedule's own delay still applies.
    const bounded = await webhookTo((index) =>
      index === 0 ? { status: 429, headers: { 'retry-after': '999999999' } } : index === 1 ? { status: 503, headers: { 'retry-after': '0' } } : { status: 200 },
    );
    await send(later.camera);
    await send(bounded.camera);

    await waitFor(() => later.receiver.requests.length === 2 && bounded.receiver.requests.length === 3, { what: 'the retries' });
    const gap = (receiver: Receiver, index: number) => receiver.requests[index + 1]!.at - receiver.requests[index]!.at;
    expect(gap(later.receiver, 0)).toBeGreaterThanOrEqual(500);
    expect(gap(bounded.receiver, 0)).toBeGreaterThanOrEqual(SCHEDULE_MS[0]! * (1 - JITTER));
    // Capped at the longest delay (600 ms); the margin is the scheduler's polling, never the centuries asked for.
    expect(gap(bounded.receiver, 0)).toBeLessThan(5_000);
    expect(gap(bounded.receiver, 1)).toBeGreaterThanOrEqual(SCHEDULE_MS[1]! * (1 - JITTER));
  });

  it('reads only what the delivery log keeps of an endless answer, and drops the connection', async () => {
    // Answers 200, then streams a body that never ends, for as long as the connection is open.
    let streamed = 0;
    let dropped = false;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const endless = createServer((request, response: ServerResponse) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'content-type': 'text/plain' });
        const pump = () => {
          if (response.destroyed) return;
          streamed += chunk.length;
          if (response.write(chunk)) setImmediate(pump);
          else response.once('drain', pump);
        };
        response.on('close', () => (dropped = true));
        pump();
      });
    });
    await listenOnFreePort(endless);
    try {
      const memory = async () => Number(/^process_resident_memory_bytes (\d+)/m.exec(await (await fetch(`http://127.0.0.1:${stack.ports.get('webhook-dispatcher')!.health}/metrics`)).text())![1]);
      const before = await memory();
      const url = `http://127.0.0.1:${(endless.address() as { port: number }).port}/hook`;
      const endpointId = await stack.createWebhookEndpoint(url, 'endless');
      const camera = crypto.randomUUID();
      await stack.createEventFilter({ endpointIds: [endpointId], in: { cameraIds: [camera] } });
      await stack.waitForConfig();
      const event = await send(camera);

      const attempt = await waitFor(
        async () => {
          const { data } = await stack.graphql('query($id: ID!) { deliveryAttempts(filters: { eventId: { exact: $id } }) { collectionItems { outcome responseBody } } }', { id: event.event.id });
          return data.deliveryAttempts.collectionItems[0] as { outcome: string; responseBody: string } | undefined;
        },
        { what: 'the attempt in the delivery log' },
      );
      expect(attempt.outcome).toBe('SUCCEEDED');
      expect(attempt.responseBody).toBe('x'.repeat(1_024));
      await waitFor(() => dropped, { what: 'the dispatcher to drop the connection' });
      expect(streamed).toBeLessThan(64 * 1024 * 1024);
      expect((await memory()) - before).toBeLessThan(64 * 1024 * 1024);
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  });

  it('disables an endpoint that answers 410 Gone, and shows it in the API', async () => {
    const hook = await webhookTo(() => ({ status: 410 }));
    await send(hook.camera);

    await waitFor(
      async () => (await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { state } } }', { id: hook.endpointId })).data.endpoints.collectionItems[0].state === 'DISABLED_GONE',
      { what: 'the endpoint to be disabled' },
    );
    expect(hook.receiver.requests).toHaveLength(1);
  });

  it('records a delivery as failed after its last attempt, each attempt in the delivery log', async () => {
    const hook = await webhookTo(() => ({ status: 500 }));
    const event = await send(hook.camera);

    const attempts = await waitFor(
      async () => {
        const { data } = await stack.graphql('query($id: ID!) { deliveryAttempts(filters: { eventId: { exact: $id } }, order: { attemptedAt: ASC }) { collectionItems { attempt statusCode outcome error } } }', {
          id: event.event.id,
        });
        const items = data.deliveryAttempts.collectionItems;
        return items.length === SCHEDULE_MS.length + 1 ? items : null;
      },
      { what: 'every attempt to be logged' },
    );
    expect(attempts).toEqual([
      { attempt: 1, statusCode: 500, outcome: 'RETRYING', error: 'HTTP 500' },
      { attempt: 2, statusCode: 500, outcome: 'RETRYING', error: 'HTTP 500' },
      { attempt: 3, statusCode: 500, outcome: 'FAILED', error: 'HTTP 500' },
    ]);
    expect(hook.receiver.requests).toHaveLength(SCHEDULE_MS.length + 1);
  });

  it('signs with the old and the new secret during a rotation grace window', async () => {
    const hook = await webhookTo();
    const before = await hook.secret();
    const rotated = await stack.graphql('mutation($id: ID!) { rotateWebhookSecret(endpointId: $id, graceSeconds: 3600) { secret previousSecret } }', { id: hook.endpointId });
    expect(rotated.data.rotateWebhookSecret.previousSecret).toBe(before);
    const after = rotated.data.rotateWebhookSecret.secret as string;
    // Once the rotation has returned, the very next deliveries carry both signatures: a receiver may switch at once.
    await send(hook.camera);
    await stack.graphql('mutation($id: ID!) { sendTestEvent(endpointId: $id) }', { id: hook.endpointId });
    await waitFor(() => hook.receiver.requests.length === 2, { what: 'both deliveries' });
    for (const delivery of hook.receiver.requests) {
      expect(delivery.headers['webhook-signature']!.split(' ')).toHaveLength(2);
      for (const secret of [before, after]) expect(() => new Webhook(secret).verify(delivery.body, delivery.headers)).not.toThrow();
    }
  });

  it("delivers to nine healthy receivers while a dead receiver's first attempt is still waiting", async () => {
    const dead = await webhookTo(() => 'hang');
    const healthy = await Promise.all(Array.from({ length: 9 }, () => webhookTo()));
    const camera = crypto.randomUUID();
    const allEndpoints = [dead.endpointId, ...healthy.map((hook) => hook.endpointId)];
    await stack.createEventFilter({ name: 'shared camera', endpointIds: allEndpoints, in: { cameraIds: [camera] } });
    await stack.waitForConfig();

    for (let i = 0; i < 5; i += 1) await send(camera);

    await waitFor(() => healthy.every((hook) => hook.receiver.requests.length === 5), { what: 'every healthy delivery' });
    expect(dead.receiver.requests.length).toBeGreaterThan(0);
    expect(dead.receiver.hanging.size).toBe(dead.receiver.requests.length);
    // The dead receiver goes away, so that its waiting attempts do not outlive this test.
    await dead.receiver.close();
  });

  it('delivers everything after the dispatcher is killed with SIGKILL mid-stream, repeating only the last requests before the kill', async () => {
    const hook = await webhookTo();
    const nats = await stack.natsClient();
    const positions = new PartitionStore(await openLeasesBucket(nats), DURABLES.webhookDispatcher);
    const partition = partitionOf(idKey(hook.endpointId), (await positions.count())!);
    // Nothing else flows meanwhile: the deliveries stored after this are this test's.
    const storedBefore = (await nats.manager.streams.info(nats.topology.streams.deliveries)).state.last_seq;
    const sent: string[] = [];
    for (let i = 0; i < 50; i += 1) sent.push((await send(hook.camera)).event.id);
    await waitFor(() => hook.receiver.requests.length >= 20, { what: 'deliveries to flow' });
    // Killed once the dispatcher has written that some of them are done (it does so at least every second while
    // they flow): those are never sent again.
    await waitFor(async () => (await positions.position(partition)) > storedBefore, { what: "the endpoint's partition position past some of its deliveries" });
    await stack.kill('webhook-dispatcher', 'SIGKILL');
    const killedAt = performance.now();
    for (let i = 0; i < 100; i += 1) sent.push((await send(hook.camera)).event.id);

    await stack.startApp('webhook-dispatcher');

    const ids = () => hook.receiver.requests.map((request) => request.headers['webhook-id']!);
    await waitFor(() => new Set(ids()).size === sent.length, { timeoutMs: 30_000, what: 'every delivery after the restart' });
    expect(new Set(ids())).toEqual(new Set(sent));
    const firstArrival = new Map<string, number>();
    const repeated: string[] = [];
    for (const request of hook.receiver.requests) {
      const id = request.headers['webhook-id']!;
      if (firstArrival.has(id)) repeated.push(id);
      else firstArrival.set(id, request.at);
    }
    // A repeat is a request that had reached the receiver before the kill but was not yet acknowledged.
    for (const id of repeated) expect(firstArrival.get(id)!).toBeLessThan(killedAt);
    // And only the last ones before it: the restarted dispatcher goes on from the position last written, and
    // first attempts leave in stored order, at most WEBHOOK_ENDPOINT_CONCURRENCY (16) at once. How many that
    // is depends on how far the position lagged (the machine's load); nothing older than them goes again.
    const beforeKill = [...firstArrival].filter(([, at]) => at < killedAt).map(([id]) => id);
    const tail = new Set(beforeKill.slice(-(repeated.length + 16)));
    expect(repeated.filter((id) => !tail.has(id))).toEqual([]);
    expect(repeated.length).toBeLessThan(beforeKill.length);
  });

  it('sends with the endpoint method and custom headers, whose values never show in the API', async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const created = await stack.graphql(
      'mutation($url: String!) { createWebhookEndpoint(name: "put", url: $url, method: PUT, headers: [{ name: "Authorization", value: "Bearer receiver-token" }]) { id meta { method headerNames } } }',
      { url: receiver.url },
    );
    const endpoint = created.data.createWebhookEndpoint;
    expect(endpoint.meta).toEqual({ method: 'PUT', headerNames: ['authorization'] });
    await stack.waitForConfig();

    const sent = await stack.graphql('mutation($id: ID!) { sendTestEvent(endpointId: $id) }', { id: endpoint.id });

    await waitFor(() => receiver.requests.length === 1, { what: 'the test event' });
    expect(receiver.requests[0]).toMatchObject({ method: 'PUT', headers: { authorization: 'Bearer receiver-token', 'webhook-id': sent.data.sendTestEvent } });
    expect(JSON.stringify(await stack.graphql('{ endpoints { collectionItems { meta { url method headerNames } } } }'))).not.toContain('receiver-token');
  });

  it('refuses reserved or malformed custom headers, naming the field', async () => {
    const result = await stack.graphql('mutation { createWebhookEndpoint(name: "h", url: "http://127.0.0.1:9/x", headers: [{ name: "X-Ok", value: "1" }, { name: "webhook-signature", value: "forged" }]) { id } }');
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'headers.1.name' });
  });

  it('lists the delivery log per endpoint and per event, and resends a failed delivery', async () => {
    let healthy = false;
    const hook = await webhookTo(() => ({ status: healthy ? 200 : 500 }));
    const event = await send(hook.camera);
    const attemptsOf = async (filters: Record<string, unknown>) =>
      (await stack.graphql('query($filters: DeliveryAttemptFilters) { deliveryAttempts(filters: $filters, order: { attemptedAt: ASC }) { totalCount collectionItems { attempt statusCode outcome error eventId } } }', { filters })).data.deliveryAttempts;
    await waitFor(async () => (await attemptsOf({ endpointId: { exact: hook.endpointId } })).collectionItems.some((item: any) => item.outcome === 'FAILED'), { what: 'the delivery to fail' });

    const byEvent = await attemptsOf({ eventId: { exact: event.event.id }, outcome: { exact: 'RETRYING' } });
    expect(byEvent.totalCount).toBe(SCHEDULE_MS.length);
    healthy = true;
    const resent = await resend(hook.endpointId, event.event.id);

    expect(resent.data.resendDelivery).toBe(true);
    await waitFor(async () => (await attemptsOf({ eventId: { exact: event.event.id }, outcome: { exact: 'SUCCEEDED' } })).totalCount === 1, { what: 'the resent delivery' });
    await waitFor(() => hook.receiver.requests.length === SCHEDULE_MS.length + 2, { what: 'the resent request' });
    expect(hook.receiver.requests.map((request) => request.headers['webhook-id'])).toEqual(Array(SCHEDULE_MS.length + 2).fill(event.event.id));
    const again = await resend(hook.endpointId, event.event.id);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('holds deliveries while paused by hand and sends them on resume', async () => {
    const hook = await webhookTo();
    const paused = await stack.graphql('mutation($id: ID!) { pauseEndpoint(id: $id) { state } }', { id: hook.endpointId });
    expect(paused.data.pauseEndpoint.state).toBe('PAUSED_BY_HAND');
    await stack.waitForConfig();
    const event = await send(hook.camera);
    await stack.waitForRoutingDone();
    const nats = await stack.natsClient();
    await waitFor(
      () => stack.caughtUp(nats.topology.streams.deliveries, 'webhook-dispatcher', nats.topology.allWebhookDeliveries),
      { what: 'the dispatcher to take the delivery' },
    );
    expect(hook.receiver.requests).toHaveLength(0);

    await stack.graphql('mutation($id: ID!) { resumeEndpoint(id: $id) { state } }', { id: hook.endpointId });

    await waitFor(() => hook.receiver.requests.length === 1, { what: 'the held delivery' });
    expect(hook.receiver.requests[0]!.headers['webhook-id']).toBe(event.event.id);
  });

  it('sends no new first attempt after a pause by hand, not even of deliveries already waiting for a lane', async () => {
    const hook = await webhookTo(() => 'hang');
    const events = [];
    for (let index = 0; index < 12; index += 1) events.push(await send(hook.camera));
    await stack.waitForRoutingDone();
    // The endpoint's lanes are all taken by hanging requests (its first 4: none is freed, so none is added); the
    // other deliveries wait in memory for one. Counted once every lane's request has arrived, not while one is on its way.
    const lanes = 4;
    await waitFor(
      async () => {
        // Every delivery read (the others wait in memory), not necessarily done.
        const nats = await stack.natsClient();
        const last = await nats.manager.streams.getMessage(nats.topology.streams.deliveries, { last_by_subj: nats.topology.webhookDeliveries(hook.endpointId) });
        const readTo = (await stack.readiness('webhook-dispatcher')).consumers['webhook-dispatcher'].readTo as number;
        return hook.receiver.requests.length === lanes && last !== null && readTo >= last.seq;
      },
      { what: 'the first attempts' },
    );

    await stack.graphql('mutation($id: ID!) { pauseEndpoint(id: $id) { state } }', { id: hook.endpointId });
    // The lanes free up after the pause: what waited for them must not go out now.
    for (const response of hook.receiver.hanging) response.writeHead(204).end();
    const nats = await stack.natsClient();
    await waitFor(
      () => stack.caughtUp(nats.topology.streams.deliveries, 'webhook-dispatcher', nats.topology.allWebhookDeliveries),
      { what: 'the dispatcher to settle every delivery' },
    );
    expect(hook.receiver.requests).toHaveLength(lanes);

    await stack.graphql('mutation($id: ID!) { resumeEndpoint(id: $id) { state } }', { id: hook.endpointId });
    await waitFor(() => new Set(hook.receiver.requests.map((request) => request.headers['webhook-id'])).size === events.length, { what: 'the held deliveries' });
  });

  it('sends an endpoint with maxRatePerSecond no faster than it allows (one second of burst, then its rate)', async () => {
    const receiver = await Receiver.start();
    receivers.push(receiver);
    const created = await stack.graphql(
      'mutation($url: String!) { createWebhookEndpoint(name: "gentle", url: $url, maxRatePerSecond: 5) { id meta { maxRatePerSecond } } }',
      { url: receiver.url },
    );
    expect(created.data.createWebhookEndpoint.meta.maxRatePerSecond).toBe(5);
    const camera = crypto.randomUUID();
    await stack.createEventFilter({ endpointIds: [created.data.createWebhookEndpoint.id], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    for (let index = 0; index < 15; index += 1) await send(camera);

    await waitFor(() => receiver.requests.length === 15, { what: 'all 15 deliveries' });
    // Five at once, then five a second: never ten within a second.
    const at = receiver.requests.map((request) => request.at).sort((a, b) => a - b);
    for (let index = 10; index < at.length; index += 1) expect(at[index]! - at[index - 10]!).toBeGreaterThanOrEqual(1_000);
  });

  it('prunes delivery log lines and failed deliveries past their retention soon after the dispatcher starts', async () => {
    const hook = await webhookTo();
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      const table = (name: string) => `${stack.schema}.${name}`;
      const [old, recent] = [crypto.randomUUID(), crypto.randomUUID()];
      for (const [eventId, age] of [[old, '40 days'], [recent, '1 day']] as const) {
        await db.query(
          `INSERT INTO ${table('delivery_attempt')} (record_id, endpoint_id, event_id, attempt, attempted_at, duration_ms, outcome) VALUES ($1, $2, $3, 1, now() - $4::interval, 5, 'FAILED')`,
          [crypto.randomUUID(), hook.endpointId, eventId, age],
        );
        await db.query(
          `INSERT INTO ${table('delivery_retry')} (endpoint_id, event_id, body, attempt, next_attempt_at, failed_at) VALUES ($1, $2, '{}', 0, now(), now() - $3::interval)`,
          [hook.endpointId, eventId, age],
        );
      }
      const left = async (name: string) => (await db.query(`SELECT event_id FROM ${table(name)} WHERE event_id = ANY($1) ORDER BY event_id`, [[old, recent]])).rows.map((row) => row.event_id);

      await stack.kill('webhook-dispatcher', 'SIGTERM');
      await stack.startApp('webhook-dispatcher');

      await waitFor(async () => (await left('delivery_attempt')).length === 1 && (await left('delivery_retry')).length === 1, { timeoutMs: 60_000, what: 'the first prune' });
      expect(await left('delivery_attempt')).toEqual([recent]);
      expect(await left('delivery_retry')).toEqual([recent]);
    } finally {
      await db.end();
    }
  });

  it('pauses an endpoint that keeps failing, probes it, and resumes it with everything it missed', async () => {
    let healthy = false;
    const hook = await webhookTo(() => ({ status: healthy ? 200 : 503 }));
    const stateOf = async () =>
      (await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { state } } }', { id: hook.endpointId })).data.endpoints.collectionItems[0].state as string;
    const events: EventJson[] = [];
    for (let i = 0; i < PAUSE_AFTER_FAILURES; i += 1) events.push(await send(hook.camera));

    await waitFor(async () => (await stateOf()) === 'PAUSED_BY_FAILURES', { what: 'the endpoint to be paused' });
    await stack.waitForConfig();
    events.push(await send(hook.camera));
    healthy = true;

    await waitFor(async () => (await stateOf()) === 'ACTIVE', { what: 'a probe to resume the endpoint' });
    const delivered = (id: string) => hook.receiver.requests.some((request) => request.headers['webhook-id'] === id && request.status === 200);
    await waitFor(() => events.every((event) => delivered(event.event.id)), { what: 'every event to be delivered' });
  });

  it('keeps a pause by hand made while a probe was in flight, though the probe succeeds; a resume sends what waited', async () => {
    // Failing until paused, then the probe hangs until the test answers it.
    const hook = await webhookTo((index) => (index < PAUSE_AFTER_FAILURES ? { status: 503 } : index === PAUSE_AFTER_FAILURES ? 'hang' : { status: 200 }));
    const stateOf = async () =>
      (await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { state } } }', { id: hook.endpointId })).data.endpoints.collectionItems[0].state as string;
    const events: EventJson[] = [];
    for (let i = 0; i < PAUSE_AFTER_FAILURES; i += 1) events.push(await send(hook.camera));
    await waitFor(() => hook.receiver.hanging.size === 1, { what: 'the probe to be in flight' });

    const paused = await stack.graphql('mutation($id: ID!) { pauseEndpoint(id: $id) { state } }', { id: hook.endpointId });
    expect(paused.data.pauseEndpoint.state).toBe('PAUSED_BY_HAND');
    await stack.waitForConfig();
    for (const response of hook.receiver.hanging) response.writeHead(200).end();
    hook.receiver.requests[PAUSE_AFTER_FAILURES]!.status = 200;
    const probed = events.find((event) => event.event.id === hook.receiver.requests[PAUSE_AFTER_FAILURES]!.headers['webhook-id'])!;
    await waitFor(
      async () => (await stack.graphql('query($id: ID!) { deliveryAttempts(filters: { eventId: { exact: $id }, outcome: { exact: SUCCEEDED } }) { totalCount } }', { id: probed.event.id })).data.deliveryAttempts.totalCount === 1,
      { timeoutMs: 30_000, what: 'the probe to succeed' },
    ).catch(async (error: Error) => {
      // What the receiver saw and what the delivery log holds of the endpoint, to tell a probe not recorded from one
      // recorded otherwise.
      const log = await stack.graphql('query($id: ID!) { deliveryAttempts(filters: { endpointId: { exact: $id } }, pagination: { limit: 50 }) { collectionItems { eventId attempt outcome statusCode attemptedAt } } }', { id: hook.endpointId });
      const seen = hook.receiver.requests.map((request, index) => `${index}: ${request.headers['webhook-id']} ${request.status ?? 'hanging'}`);
      const dispatcher = stack.output('webhook-dispatcher', 60);
      throw new Error(`${error.message}\nprobed event ${probed.event.id}\nreceiver: ${seen.join('; ')}\ndelivery log: ${JSON.stringify(log.data?.deliveryAttempts?.collectionItems ?? log.errors)}\nthe dispatcher's last output:\n${dispatcher}`);
    });
    // The probe's success is the dispatcher's health; the pause by hand is the api's, and stays.
    expect(await stateOf()).toBe('PAUSED_BY_HAND');
    const record = await (await openConfigBucket(await stack.natsClient())).get(ConfigKeys.endpoint(hook.endpointId));
    expect(record?.json()).toMatchObject({ state: 'PAUSED_BY_HAND' });

    await stack.graphql('mutation($id: ID!) { resumeEndpoint(id: $id) { state } }', { id: hook.endpointId });
    const delivered = (id: string) => hook.receiver.requests.some((request) => request.headers['webhook-id'] === id && request.status === 200);
    await waitFor(() => events.every((event) => delivered(event.event.id)), { what: 'what waited to go out on resume' });
    expect(await stateOf()).toBe('ACTIVE');
  });

  it('keeps an endpoint deleted while a probe was in flight deleted, though the probe succeeds', async () => {
    const hook = await webhookTo((index) => (index < PAUSE_AFTER_FAILURES ? { status: 503 } : index === PAUSE_AFTER_FAILURES ? 'hang' : { status: 200 }));
    for (let i = 0; i < PAUSE_AFTER_FAILURES; i += 1) await send(hook.camera);
    await waitFor(() => hook.receiver.hanging.size === 1, { what: 'the probe to be in flight' });

    const deleted = await stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: hook.endpointId });
    expect(deleted.data.deleteEndpoint).toBe(true);
    await stack.waitForConfig();
    for (const response of hook.receiver.hanging) response.writeHead(200).end();
    const probedId = hook.receiver.requests[PAUSE_AFTER_FAILURES]!.headers['webhook-id'];
    await waitFor(
      async () => (await stack.graphql('query($id: ID!) { deliveryAttempts(filters: { eventId: { exact: $id }, outcome: { exact: SUCCEEDED } }) { totalCount } }', { id: probedId })).data.deliveryAttempts.totalCount === 1,
      { timeoutMs: 30_000, what: 'the probe to succeed' },
    );
    // The dispatcher wrote its own health record only: the endpoint is not brought back.
    const bucket = await openConfigBucket(await stack.natsClient());
    expect((await bucket.get(ConfigKeys.endpoint(hook.endpointId)))?.operation ?? 'none').not.toBe('PUT');
    const listed = await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { totalCount } }', { id: hook.endpointId });
    expect(listed.data.endpoints.totalCount).toBe(0);
  });

  it('re-applies the deleted-profile check when resending and replaying', async () => {
    const hook = await webhookTo(() => ({ status: 500 }));
    const profile = crypto.randomUUID();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [] } });
    const from = new Date();
    const event = freshEvent();
    event.camera.id = hook.camera;
    event.candidates[0].profile.id = profile;
    await stack.postEvent(JSON.stringify(event));
    await failedFor(event.event.id);
    const to = new Date();

    await stack.publishProfile({ deleted: { id: profile } });
    await stack.waitForRoutingDone();

    const resent = await resend(hook.endpointId, event.event.id);
    expect(resent.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'eventId' });
    expect(resent.errors?.[0]?.message).toContain('deleted since');
    const replayed = await replay(hook.endpointId, from, to);
    expect(replayed).toBe(0);
  });

  it('resends and replays a delivery with the groups it was routed with, as a websocket resume does, without a profile deleted since', async () => {
    let failing = true;
    const hook = await webhookTo(() => ({ status: failing ? 500 : 204 }));
    const [kept, gone, routedGroup, laterGroup] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await stack.publishProfile({ upserted: { id: kept, profile_groups: [{ id: routedGroup, color: null }] } });
    await stack.publishProfile({ upserted: { id: gone, profile_groups: [] } });
    const from = new Date();
    const event = freshEvent();
    event.camera.id = hook.camera;
    event.candidates = [structuredClone(event.candidates[0]), structuredClone(event.candidates[0])];
    event.candidates[0].profile.id = kept;
    event.candidates[1].profile.id = gone;
    await stack.postEvent(JSON.stringify(event));
    await failedFor(event.event.id);
    const to = new Date();
    // Since it was routed: one candidate's profile deleted, the other's groups changed.
    await stack.publishProfile({ deleted: { id: gone } });
    await stack.publishProfile({ upserted: { id: kept, profile_groups: [{ id: laterGroup, color: null }] } });
    await stack.waitForRoutingDone();
    failing = false;
    const tried = hook.receiver.requests.length;

    const resent = await resend(hook.endpointId, event.event.id);
    expect(resent.data?.resendDelivery).toBe(true);
    await waitFor(() => hook.receiver.requests.length === tried + 1, { what: 'the resent delivery' });
    const replayed = await replay(hook.endpointId, from, to);
    expect(replayed).toBe(1);
    await waitFor(() => hook.receiver.requests.length === tried + 2, { what: 'the replayed delivery' });

    for (const request of hook.receiver.requests.slice(tried)) {
      const candidates = (JSON.parse(request.body) as { candidates: Array<{ profile: { id: string }; profile_groups: Array<{ id: string }> }> }).candidates;
      expect(candidates.map((candidate) => [candidate.profile.id, candidate.profile_groups.map((group) => group.id)])).toEqual([[kept, [routedGroup]]]);
    }
  });
});
