import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshEvent, type EventJson } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { replayEnded, replayJob, startReplay, webhookIdsOf, webhookWithReceiver } from './support/replays.js';
import { TestStack, type Instance } from './support/stack.js';
import { waitFor } from './support/wait.js';

/**
 * A replay job's worker killed mid-way (the long tier: it waits for a lease
 * to expire and a job to be taken over): another replica finishes the job.
 */
describe('a replay job whose worker is killed', () => {
  let stack: TestStack;
  const receivers: Receiver[] = [];
  const graphql = (query: string, variables?: Record<string, unknown>) => stack.graphql(query, variables);

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
      // A short lease: a killed worker's job is taken over within seconds.
      appEnv: { 'webhook-dispatcher': { REPLAY_LEASE_TTL: '2s', REPLAY_TOTAL_RATE_PER_SECOND: '5000', REPLAY_RATE_PER_SECOND: '2000' } },
    });
  });

  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await stack?.stop();
  });

  const webhook = () => webhookWithReceiver(stack, receivers);


  it('finishes a job on another replica when its worker is killed mid-way: every delivery sent, and only what the killed replica had sent goes again', async () => {
    const camera = randomUUID();
    const hook = await webhook();
    await stack.createEventFilter({ endpointIds: [hook.endpointId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    const second = await stack.startReplica('webhook-dispatcher');
    const from = new Date();
    const events: EventJson[] = [];
    for (let i = 0; i < 100; i += 1) events.push(freshEvent());
    for (const event of events) event.camera.id = camera;
    await Promise.all(events.map(async (event) => expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202)));
    await waitFor(() => hook.receiver.requests.length === 100, { timeoutMs: 30_000, what: 'the first deliveries' });
    const to = new Date();

    // 25 a second, in batches of 25: a batch is what may be in flight when its worker dies.
    const job = await startReplay(graphql, { kind: 'REDELIVER', endpointId: hook.endpointId, from, to, ratePerSecond: 25 });
    const running = await waitFor(async () => {
      const seen = await replayJob(graphql, job.id);
      return seen.state === 'RUNNING' && seen.done >= 25 ? seen : null;
    }, { what: 'the job to be under way' });
    const instances: Instance[] = ['webhook-dispatcher', second];
    const holder = instances.find((instance) => running.worker!.endsWith(`:${stack.pid(instance)}`))!;
    expect(holder).toBeDefined();
    await stack.kill(holder);
    // What the killed replica sent is in the receiver's socket buffers once the process is gone: two turns of the event
    // loop read it (and perhaps some of the other replica's sends too, which only widens what may go again).
    for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    const sentByThen = hook.receiver.requests.length;

    const ended = await replayEnded(graphql, job.id);
    expect(ended).toMatchObject({ state: 'SUCCEEDED', total: 100, done: 100 });
    expect(ended.worker).not.toBe(running.worker);
    const countOf = (ids: string[]) => ids.reduce((counts, id) => counts.set(id, (counts.get(id) ?? 0) + 1), new Map<string, number>());
    // Each event's original delivery and its replayed one (the next holder sends the partition's messages in order:
    // what it sends again comes before the last replayed ones).
    await waitFor(() => {
      const copies = countOf(webhookIdsOf(hook.receiver));
      return events.every((event) => (copies.get(event.event.id) ?? 0) >= 2);
    }, { what: 'every replayed delivery' });
    expect(new Set(webhookIdsOf(hook.receiver))).toEqual(new Set(events.map((event) => event.event.id)));
    // The job's next worker publishes again what the killed one may have published (the same message ids: the stream
    // keeps one), and the partition's next holder sends again what was sent since its last written position: the
    // original deliveries too, when the kill came soon after them. So each event has its original and its replayed
    // delivery, and a copy more only for each of the two the killed replica had sent.
    const before = countOf(webhookIdsOf(hook.receiver).slice(0, sentByThen));
    const overSent = [...countOf(webhookIdsOf(hook.receiver))].filter(([id, copies]) => copies - 2 > (before.get(id) ?? 0));
    expect(overSent).toEqual([]);
    if (holder === 'webhook-dispatcher') await stack.startApp('webhook-dispatcher');
  });
});
