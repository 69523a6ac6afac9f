import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { freshEvent } from './support/fixtures.js';
import { Receiver, type Answer } from './support/receiver.js';
import { DATABASE_URL, TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

const SCHEDULE_MS = [300, 600];
const JITTER = 0.1;

describe('webhook delivery', () => {
  let stack: TestStack;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'filter-router', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
      appEnv: { 'webhook-dispatcher': { WEBHOOK_RETRY_SCHEDULE: SCHEDULE_MS.map((ms) => `${ms}ms`).join(','), WEBHOOK_TIMEOUT: '20s' } },
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
    const created = await stack.graphql('mutation($url: String!) { createWebhookEndpoint(name: "hook", url: $url) { id } }', { url: receiver.url });
    const endpointId = created.data.createWebhookEndpoint.id as string;
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

  it('honours Retry-After on 503', async () => {
    const hook = await webhookTo((index) => (index === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }));
    await send(hook.camera);

    await waitFor(() => hook.receiver.requests.length === 2, { what: 'the retry' });
    const [first, second] = hook.receiver.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_000);
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
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    try {
      const attempts = await waitFor(
        async () => {
          const { rows } = await db.query(`SELECT attempt, status_code, outcome FROM ${stack.schema}.delivery_attempt WHERE event_id = $1 ORDER BY attempt`, [event.event.id]);
          return rows.length === SCHEDULE_MS.length + 1 ? rows : null;
        },
        { what: 'every attempt to be logged' },
      );
      expect(attempts).toEqual([
        { attempt: 1, status_code: 500, outcome: 'RETRYING' },
        { attempt: 2, status_code: 500, outcome: 'RETRYING' },
        { attempt: 3, status_code: 500, outcome: 'FAILED' },
      ]);
      const { rows } = await db.query(`SELECT count(*)::int AS waiting FROM ${stack.schema}.delivery_retry WHERE event_id = $1`, [event.event.id]);
      expect(rows[0].waiting).toBe(0);
    } finally {
      await db.end();
    }
    expect(hook.receiver.requests).toHaveLength(SCHEDULE_MS.length + 1);
  });

  it('signs with the old and the new secret during a rotation grace window', async () => {
    const hook = await webhookTo();
    const before = await hook.secret();
    const rotated = await stack.graphql('mutation($id: ID!) { rotateWebhookSecret(endpointId: $id, graceSeconds: 3600) { secret previousSecret } }', { id: hook.endpointId });
    expect(rotated.data.rotateWebhookSecret.previousSecret).toBe(before);
    const after = rotated.data.rotateWebhookSecret.secret as string;
    // The dispatcher caches secrets for two seconds: send until a delivery carries both signatures.
    const signedWithBoth = await waitFor(
      async () => {
        const count = hook.receiver.requests.length;
        await send(hook.camera);
        await waitFor(() => hook.receiver.requests.length > count, { what: 'a delivery' });
        const last = hook.receiver.requests[hook.receiver.requests.length - 1]!;
        return last.headers['webhook-signature']!.split(' ').length === 2 ? last : null;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'a delivery signed with both secrets' },
    );
    for (const secret of [before, after]) expect(() => new Webhook(secret).verify(signedWithBoth.body, signedWithBoth.headers)).not.toThrow();
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
  });

  it('delivers everything after the dispatcher is killed with SIGKILL mid-stream, repeating only requests in flight at the kill', async () => {
    const hook = await webhookTo();
    const sent: string[] = [];
    let killedAt: number | null = null;
    for (let i = 0; i < 150; i += 1) {
      sent.push((await send(hook.camera)).event.id);
      if (killedAt === null && hook.receiver.requests.length >= 40) {
        await stack.kill('webhook-dispatcher', 'SIGKILL');
        killedAt = performance.now();
      }
    }
    expect(killedAt).not.toBeNull();

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
    for (const id of repeated) expect(firstArrival.get(id)!).toBeLessThan(killedAt!);
    expect(repeated.length).toBeLessThanOrEqual(16);
  });
});
