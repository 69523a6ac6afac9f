import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeletedProfiles } from '@app/messaging';
import { cli } from './support/cli.js';
import { freshEvent, type EventJson } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { reachOf, replayEnded, replayJob, startReplay, webhookIdsOf, webhookWithReceiver } from './support/replays.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

/** Replays as jobs, run by the webhook-dispatcher's replicas, through the real NATS and PostgreSQL. */
describe('replay jobs', () => {
  let stack: TestStack;
  const receivers: Receiver[] = [];
  const clients: TestClient[] = [];
  const graphql = (query: string, variables?: Record<string, unknown>) => stack.graphql(query, variables);

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
      // A short lease: a killed worker's job is taken over within seconds.
      appEnv: {
        'webhook-dispatcher': { REPLAY_LEASE_TTL: '2s', REPLAY_TOTAL_RATE_PER_SECOND: '5000', REPLAY_RATE_PER_SECOND: '2000' },
        // No deliveries kept in memory: a resume finds its position in the stream (memory's rule: client-registry.spec.ts).
        'websocket-gateway': { WS_RECENT_BYTES: '0' },
      },
    });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await stack?.stop();
  });

  const webhook = () => webhookWithReceiver(stack, receivers);

  async function send(camera: string): Promise<EventJson> {
    const event = freshEvent();
    event.camera.id = camera;
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    return event;
  }


  it('re-delivers a webhook endpoint’s deliveries of a time range: the dry run counts what the run sends, the webhook-id kept, a second run inside the duplicate window not swallowed', async () => {
    const camera = randomUUID();
    const hook = await webhook();
    await stack.createEventFilter({ endpointIds: [hook.endpointId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    const from = new Date();
    const events = [await send(camera), await send(camera), await send(camera)];
    await waitFor(() => hook.receiver.requests.length === 3, { what: 'the first deliveries' });
    const to = new Date();
    const later = await send(camera);
    await waitFor(() => hook.receiver.requests.length === 4, { what: 'a later delivery' });

    const dry = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REDELIVER', endpointId: hook.endpointId, from, to, dryRun: true })).id);
    expect(dry).toMatchObject({ state: 'SUCCEEDED', total: 3, done: 3, sent: 3 });
    expect(reachOf(dry)).toEqual({ [hook.endpointId]: 3 });
    const real = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REDELIVER', endpointId: hook.endpointId, from, to })).id);
    expect(reachOf(real)).toEqual(reachOf(dry));
    await waitFor(() => hook.receiver.requests.length === 7, { what: 'the replayed deliveries' });
    const again = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REDELIVER', endpointId: hook.endpointId, from, to })).id);
    expect(again).toMatchObject({ state: 'SUCCEEDED', sent: 3 });
    await waitFor(() => hook.receiver.requests.length === 10, { what: 'the second replay, inside the duplicate window' });

    const sent = events.map((event) => event.event.id).sort();
    // The dry run sent nothing; each run sent each event once, with its id; the replays' own copies are not replayed again.
    expect(webhookIdsOf(hook.receiver, 4).slice(0, 3).sort()).toEqual(sent);
    expect(webhookIdsOf(hook.receiver, 7).sort()).toEqual(sent);
    expect(webhookIdsOf(hook.receiver).filter((id) => id === later.event.id)).toHaveLength(1);
  });

  it('re-routes a time range after a filter change to exactly the endpoints that missed its events; websocket clients get them live', async () => {
    const [camera, other] = [randomUUID(), randomUUID()];
    const routed = await webhook();
    const missed = await webhook();
    const websocket = await stack.createWebsocketEndpoint('missed');
    await stack.createEventFilter({ endpointIds: [routed.endpointId], in: { cameraIds: [camera] } });
    const fixed = await stack.createEventFilter({ endpointIds: [missed.endpointId, websocket], in: { cameraIds: [other] } });
    await stack.waitForConfig();
    const client = await TestClient.connect(stack.websocketUrl(websocket));
    clients.push(client);
    const from = new Date();
    const events = [await send(camera), await send(camera)];
    // An identification whose only candidate's profile is deleted before the re-route stays out of it.
    const profile = randomUUID();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [] } });
    const forgotten = freshEvent();
    forgotten.camera.id = camera;
    forgotten.candidates[0].profile.id = profile;
    expect((await stack.postEvent(JSON.stringify(forgotten))).status).toBe(202);
    // One with two candidates, the one on a watchlist deleted since: a filter on that watchlist no longer takes it.
    const [leaving, staying, watchlist] = [randomUUID(), randomUUID(), randomUUID()];
    await stack.publishProfile({ upserted: { id: leaving, profile_groups: [{ id: watchlist, color: null }] } });
    await stack.publishProfile({ upserted: { id: staying, profile_groups: [] } });
    const mixed = freshEvent();
    mixed.camera.id = camera;
    mixed.candidates = [structuredClone(mixed.candidates[0]), structuredClone(mixed.candidates[0])];
    mixed.candidates[0].profile.id = leaving;
    mixed.candidates[1].profile.id = staying;
    expect((await stack.postEvent(JSON.stringify(mixed))).status).toBe(202);
    await waitFor(() => routed.receiver.requests.length === 4, { what: 'the first routing' });
    const to = new Date();
    await stack.publishProfile({ deleted: { id: profile } });
    await stack.publishProfile({ deleted: { id: leaving } });
    // An endpoint added since, for the watchlist.
    const added = await webhook();
    await stack.createEventFilter({ endpointIds: [added.endpointId], in: { profileGroupIds: [watchlist] } });

    // The filter is fixed: the camera was missing from it.
    const updated = await graphql('mutation($id: ID!, $input: EventFiltersUpdateInput!) { updateEventFilters(id: $id, eventFiltersInput: $input) { id } }', {
      id: fixed,
      input: { name: 'fixed', endpointIds: [missed.endpointId, websocket], in: { cameraIds: [other, camera] } },
    });
    expect(updated.errors).toBeUndefined();
    await stack.waitForConfig();
    // The deletion is applied before the re-route reads the history.
    const deletedProfiles = await DeletedProfiles.open(await stack.natsClient(), 3_600_000);
    await waitFor(async () => (await deletedProfiles.isDeleted(profile)) && deletedProfiles.isDeleted(leaving), { what: 'the deletions to be recorded' });
    const dry = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REROUTE', from, to, dryRun: true })).id);
    expect(reachOf(dry)).toEqual({ [missed.endpointId]: 3, [websocket]: 3 });
    expect(dry).toMatchObject({ done: 4, skipped: 1 });
    const real = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REROUTE', from, to })).id);
    expect(reachOf(real)).toEqual(reachOf(dry));

    const ids = [...events, mixed].map((event) => event.event.id).sort();
    await waitFor(() => missed.receiver.requests.length === 3 && client.frames.length === 3, { what: 'the re-routed deliveries' });
    expect(webhookIdsOf(missed.receiver).sort()).toEqual(ids);
    expect(client.eventIds().sort()).toEqual(ids);
    // Once the dispatcher's ledger has them, nothing is missing any more: a third run sends nothing.
    await waitFor(
      async () => (await graphql('query($id: ID!) { deliveryAttempts(filters: { endpointId: { exact: $id } }) { totalCount } }', { id: missed.endpointId })).data.deliveryAttempts.totalCount === 3,
      { what: 'the ledger to hold the re-routed deliveries' },
    );
    const after = await replayEnded(graphql, (await startReplay(graphql, { kind: 'REROUTE', from, to, dryRun: true })).id);
    expect(after).toMatchObject({ state: 'SUCCEEDED', sent: 0, reached: [] });
    expect(routed.receiver.requests).toHaveLength(4);
    expect(webhookIdsOf(missed.receiver)).not.toContain(forgotten.event.id);
    // Sent without the deleted candidate, and not to the watchlist's endpoint, which only that candidate matched.
    const resent = JSON.parse(missed.receiver.requests.find((request) => request.headers['webhook-id'] === mixed.event.id)!.body) as { candidates: Array<{ profile: { id: string } }> };
    expect(resent.candidates.map((candidate) => candidate.profile.id)).toEqual([staying]);
    expect(added.receiver.requests).toHaveLength(0);
  });

  it('keeps a websocket resume from an event id after a re-delivery at the event’s own delivery: no gap', async () => {
    const camera = randomUUID();
    const endpointId = await stack.createWebsocketEndpoint('resume after replay');
    await stack.createEventFilter({ endpointIds: [endpointId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    const reference = await TestClient.connect(stack.websocketUrl(endpointId));
    clients.push(reference);
    const from = new Date();
    const [first, second] = [await send(camera), await send(camera)];
    await reference.waitForEvents(2);
    const to = new Date();
    const third = await send(camera);
    await reference.waitForEvents(3);
    await replayEnded(graphql, (await startReplay(graphql, { kind: 'REDELIVER', endpointId, from, to })).id);
    const fourth = await send(camera);
    await reference.waitForEvents(6);
    expect(reference.eventIds()).toEqual([first, second, third, first, second, fourth].map((event) => event.event.id));

    // A client that last saw the first event's own delivery resumes after it, not after its replayed copy.
    const back = await TestClient.connect(stack.websocketUrl(endpointId) + `&last_event_id=${first.event.id}`);
    clients.push(back);
    await back.waitForEvents(5);
    expect(back.eventIds()).toEqual(reference.eventIds().slice(1));
  });

  it('starts, lists, follows and cancels jobs from the CLI; refuses bad input with the field at fault; a scoped token sees no jobs', async () => {
    const camera = randomUUID();
    const hook = await webhook();
    await stack.createEventFilter({ endpointIds: [hook.endpointId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    const from = new Date();
    // Enough for the slow job (one a second) to be listed and cancelled by the CLI, each a process of its own, long before its end.
    for (let i = 0; i < 20; i += 1) await send(camera);
    await waitFor(() => hook.receiver.requests.length === 20, { what: 'the deliveries' });
    // Through the CLI, as an SRE runs it: a dry run followed to its end, then a slow job started, listed and cancelled.
    const range = ['--from', from.toISOString(), '--to', new Date().toISOString()];
    const dry = await cli(stack, ['replay', 'start', '--kind', 'redeliver', '--endpoint', hook.endpointId, ...range, '--dry-run']);
    expect(dry).toMatchObject({ code: 0 });
    expect(dry.stdout).toMatch(/SUCCEEDED; 20 of 20 messages read, 20 deliveries would be sent/);
    expect(dry.stdout).toContain(hook.endpointId);
    const started = await cli(stack, ['replay', 'start', '--kind', 'redeliver', '--endpoint', hook.endpointId, ...range, '--rate', '1', '--no-wait', '--json']);
    expect(started).toMatchObject({ code: 0 });
    const job = JSON.parse(started.stdout) as { id: string };
    await waitFor(async () => (await replayJob(graphql, job.id)).state === 'RUNNING', { what: 'the job to run' });
    expect((await cli(stack, ['replay', 'list', '--state', 'running'])).stdout).toContain(job.id);
    const cancelled = await cli(stack, ['replay', 'cancel', job.id]);
    expect(cancelled).toMatchObject({ code: 0 });
    const ended = await replayEnded(graphql, job.id);
    expect(ended.state).toBe('CANCELLED');
    expect(ended.sent).toBeLessThan(20);
    expect((await cli(stack, ['replay', 'show', job.id])).stdout).toMatch(/CANCELLED/);
    const wrong = await cli(stack, ['replay', 'start', '--kind', 'sideways', ...range]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('--kind must be redeliver or reroute');

    const refused = async (input: Record<string, unknown>) =>
      (await graphql('mutation($input: StartReplayInput!) { startReplay(input: $input) { id } }', { input })).errors?.[0]?.extensions;
    const window = { from: from.toISOString(), to: new Date().toISOString() };
    expect(await refused({ kind: 'REDELIVER', ...window })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.endpointId' });
    expect(await refused({ kind: 'REROUTE', endpointId: hook.endpointId, ...window })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.endpointId' });
    expect(await refused({ kind: 'REROUTE', from: window.to, to: window.from })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.to' });
    expect(await refused({ kind: 'REDELIVER', endpointId: randomUUID(), ...window })).toMatchObject({ code: 'NOT_FOUND', field: 'input.endpointId' });
    expect(await refused({ kind: 'REROUTE', from: 'yesterday', to: window.to })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.from' });

    const created = await graphql('mutation($ids: [ID!]) { createApiToken(name: "scoped", scope: READ_ONLY, endpointIds: $ids) { token } }', { ids: [hook.endpointId] });
    expect(created.errors).toBeUndefined();
    const scoped = created.data.createApiToken.token as string;
    for (const query of ['{ replayJobs { totalCount } }', `{ replayJob(id: "${job.id}") { id } }`]) {
      const answer = await stack.graphql(query, {}, scoped);
      expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });
});
