import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Headers, type NatsClient } from '@app/messaging';
import type { DeadLetter as Listed } from '../scripts/cli/dead-letters.js';
import { cli } from './support/cli.js';
import { freshEvent } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

const encoder = new TextEncoder();
const FIELDS = 'id app consumer reason detail deadLetteredAt sourceSubject eventId message state resolvedAt';

/**
 * Dead letters you can act on: every app's dead letters projected by the
 * webhook-dispatcher into PostgreSQL, listed through GraphQL and the CLI,
 * resubmitted where they came from after a fix (and delivered), or
 * discarded; whole-installation data, so a token scoped to endpoints sees none.
 */
describe('dead letters', () => {
  let stack: TestStack;
  let nats: NatsClient;
  let receiver: Receiver;
  let hook: string;

  beforeAll(async () => {
    receiver = await Receiver.start(() => ({ status: 204 }));
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
    });
    nats = await stack.natsClient();
    // No filter: it receives every event.
    hook = await stack.createWebhookEndpoint(receiver.url);
    await stack.waitForConfig();
  });

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  async function list(filters: Record<string, unknown> = {}, token?: string) {
    return stack.graphql(`query($filters: DeadLetterFilters) { deadLetters(filters: $filters, pagination: { limit: 100 }) { totalCount collectionItems { ${FIELDS} } } }`, { filters }, token);
  }

  /** The dead letters of `filters` once there are `count` of them. */
  async function listed(filters: Record<string, unknown>, count: number): Promise<Listed[]> {
    return waitFor(
      async () => {
        const { data, errors } = await list(filters);
        if (errors) throw new Error(errors[0]!.message);
        return data.deadLetters.totalCount === count ? (data.deadLetters.collectionItems as Listed[]) : null;
      },
      { what: `${count} dead letters of ${JSON.stringify(filters)}` },
    );
  }

  async function act(mutation: 'resubmitDeadLetters' | 'discardDeadLetters', filters: Record<string, unknown>): Promise<number> {
    const { data, errors } = await stack.graphql(`mutation($filters: DeadLetterFilters!) { ${mutation}(filters: $filters) }`, { filters });
    expect(errors).toBeUndefined();
    return data[mutation] as number;
  }

  it("lists each app's dead letters with their app, reason, detail, source and message, and keeps the original's headers on the record", async () => {
    const invalid = JSON.stringify({ type: 'identification', event: { id: randomUUID() } });
    await stack.publishAgentEvent(randomUUID(), invalid);
    await nats.jetstream.publish(nats.topology.ingestedEvents, encoder.encode('not json'));
    const unrouted = freshEvent();
    const onlyId = natsHeaders();
    onlyId.set(Headers.eventId, unrouted.event.id);
    await nats.jetstream.publish(nats.topology.routableEvents, encoder.encode(JSON.stringify(unrouted)), { headers: onlyId });
    const undeliverable = freshEvent();
    const unknownEndpoint = randomUUID();
    const delivery = natsHeaders();
    delivery.set(Headers.eventId, undeliverable.event.id);
    delivery.set(Headers.endpointId, unknownEndpoint);
    await nats.jetstream.publish(nats.topology.webhookDeliveries(unknownEndpoint), encoder.encode(JSON.stringify(undeliverable)), { headers: delivery });

    const letters = await listed({ app: { in: ['ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'] } }, 4);
    const byApp = Object.fromEntries(letters.map((letter) => [letter.app, letter]));
    expect(byApp.ingest).toMatchObject({ consumer: 'ingest', reason: 'INVALID_EVENT', message: invalid, state: 'OPEN', resolvedAt: null });
    expect(byApp.ingest!.detail).not.toBe('');
    expect(byApp['profile-sync']).toMatchObject({ consumer: 'profile-sync', reason: 'MALFORMED_MESSAGE', detail: 'event is not JSON', message: 'not json', sourceSubject: nats.topology.ingestedEvents, eventId: null });
    expect(byApp['filter-router']).toMatchObject({ reason: 'MISSING_HEADERS', detail: 'message lacks the routing headers ingest sets', eventId: unrouted.event.id, sourceSubject: nats.topology.routableEvents });
    expect(JSON.parse(byApp['filter-router']!.message)).toEqual(unrouted);
    expect(byApp['webhook-dispatcher']).toMatchObject({ reason: 'UNKNOWN_ENDPOINT', eventId: undeliverable.event.id, sourceSubject: nats.topology.webhookDeliveries(unknownEndpoint) });
    expect(byApp['webhook-dispatcher']!.detail).toContain(unknownEndpoint);
    // Newest first by default, oldest first on request.
    const ascending = await stack.graphql('{ deadLetters(order: { deadLetteredAt: ASC }) { collectionItems { id deadLetteredAt } } }');
    const times = (ascending.data.deadLetters.collectionItems as Listed[]).map((letter) => Date.parse(letter.deadLetteredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    // The record on the stream carries the original's headers (not its Nats-* ones) beside its own.
    const record = await nats.manager.streams.getMessage(nats.topology.streams.deadLetters, { last_by_subj: nats.topology.deadLetters('webhook-dispatcher') });
    expect([record!.header!.get(Headers.eventId), record!.header!.get(Headers.endpointId), record!.header!.get(Headers.reason)]).toEqual([undeliverable.event.id, unknownEndpoint, 'UNKNOWN_ENDPOINT']);
  });

  it('resubmits a dead letter where it came from: one that still fails comes back as a new one, and after the fix it is delivered', async () => {
    const [owner, intruder, camera] = [randomUUID(), randomUUID(), randomUUID()];
    const onCamera = (agentId: string) => {
      const event = freshEvent({ agentId });
      event.camera.id = camera;
      return event;
    };
    const first = onCamera(owner);
    await stack.publishAgentEvent(owner, JSON.stringify(first));
    await waitFor(() => receiver.requests.some((request) => request.headers['webhook-id'] === first.event.id), { what: "the camera's owner's event delivered" });
    const refused = onCamera(intruder);
    await stack.publishAgentEvent(intruder, JSON.stringify(refused));
    const camerasOfAnother = { reason: { exact: 'CAMERA_OF_ANOTHER_AGENT' } };
    const [letter] = await listed(camerasOfAnother, 1);
    expect(letter).toMatchObject({ app: 'ingest', eventId: refused.event.id, sourceSubject: nats.topology.agentEvents(intruder), state: 'OPEN' });

    // Resubmitted before the fix: ingest refuses it again, a new dead letter.
    expect(await act('resubmitDeadLetters', { id: { exact: letter!.id } })).toBe(1);
    const again = await listed(camerasOfAnother, 2);
    expect(again.map((item) => [item.id === letter!.id, item.state, item.eventId])).toEqual([
      [false, 'OPEN', refused.event.id],
      [true, 'RESUBMITTED', refused.event.id],
    ]);
    expect(again[1]!.resolvedAt).not.toBeNull();

    const moved = await stack.graphql('mutation($cameraId: ID!, $agentId: ID!) { moveCamera(cameraId: $cameraId, agentId: $agentId) { agentId } }', { cameraId: camera, agentId: intruder });
    expect(moved.errors).toBeUndefined();
    // Only the open one goes: the resubmitted one is not sent twice.
    expect(await act('resubmitDeadLetters', camerasOfAnother)).toBe(1);
    await waitFor(() => receiver.requests.some((request) => request.headers['webhook-id'] === refused.event.id), { what: 'the resubmitted event delivered' });
    expect(JSON.parse(receiver.requests.find((request) => request.headers['webhook-id'] === refused.event.id)!.body)).toEqual(refused);
    expect(await act('resubmitDeadLetters', camerasOfAnother)).toBe(0);
    expect((await listed({ ...camerasOfAnother, state: { exact: 'OPEN' } }, 0)).length).toBe(0);
  });

  it('discards dead letters: listed DISCARDED, and a later resubmit leaves them', async () => {
    const router = { app: { exact: 'filter-router' } };
    expect(await act('discardDeadLetters', router)).toBe(1);
    const [discarded] = await listed({ ...router, state: { in: ['DISCARDED'] } }, 1);
    expect(discarded!.resolvedAt).not.toBeNull();
    expect(await act('resubmitDeadLetters', { app: { in: ['filter-router'] } })).toBe(0);
    expect(await act('discardDeadLetters', router)).toBe(0);
    expect((await listed(router, 1))[0]).toMatchObject({ state: 'DISCARDED', resolvedAt: discarded!.resolvedAt });
  });

  it('refuses a token scoped to endpoints (whole-installation data), and bad filters with the field at fault', async () => {
    const created = await stack.graphql('mutation($endpointIds: [ID!]) { createApiToken(name: "integrator", scope: READ_ONLY, endpointIds: $endpointIds) { token } }', { endpointIds: [hook] });
    expect(created.errors).toBeUndefined();
    const scoped = await list({}, created.data.createApiToken.token as string);
    expect(scoped.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    expect(scoped.data?.deadLetters ?? null).toBeNull();

    const badId = await list({ id: { exact: 'not-a-number' } });
    expect(badId.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filters.id.exact' });
  });

  it('lists, discards and resubmits from the CLI', async () => {
    const listedJson = await cli(stack, ['dead-letters', 'list', '--app', 'profile-sync', '--json']);
    expect(listedJson.code).toBe(0);
    const page = JSON.parse(listedJson.stdout) as { totalCount: number; collectionItems: Listed[] };
    expect([page.totalCount, page.collectionItems[0]!.reason, page.collectionItems[0]!.message]).toEqual([1, 'MALFORMED_MESSAGE', 'not json']);
    const table = await cli(stack, ['dead-letters', 'list', '--reason', 'INVALID_EVENT,UNKNOWN_ENDPOINT', '--state', 'open', '--since', '1h']);
    expect(table.stdout).toMatch(/^ID\s+DEAD-LETTERED\s+APP\s+REASON\s+STATE\s+DETAIL$/m);
    expect(table.stdout).toMatch(/\s+ingest\s+INVALID_EVENT\s+OPEN\s+/);
    expect(table.stdout).toMatch(/\s+webhook-dispatcher\s+UNKNOWN_ENDPOINT\s+OPEN\s+/);
    expect(table.stdout.trim().split('\n').at(-1)).toBe('2 of 2 dead letters');

    const unfiltered = await cli(stack, ['dead-letters', 'discard']);
    expect([unfiltered.code, unfiltered.stderr.trim()]).toEqual([1, 'event-service: discard: give filters (--id, --app, --reason, --since, --until), or --all for every open dead letter']);
    const badSince = await cli(stack, ['dead-letters', 'list', '--since', 'yesterday']);
    expect([badSince.code, badSince.stderr]).toEqual([1, expect.stringContaining('--since must be a date-time such as 2026-01-31T10:00:00Z, or how long ago such as 2h or 7d')]);

    const discarded = await cli(stack, ['dead-letters', 'discard', '--app', 'profile-sync']);
    expect([discarded.code, discarded.stdout.trim()]).toEqual([0, 'discarded 1 dead letters']);
    // The webhook delivery of an endpoint that does not exist goes back to the dispatcher, which dead-letters it again.
    const [undeliverable] = await listed({ reason: { exact: 'UNKNOWN_ENDPOINT' } }, 1);
    const resubmitted = await cli(stack, ['dead-letters', 'resubmit', '--id', undeliverable!.id]);
    expect([resubmitted.code, resubmitted.stdout.trim()]).toEqual([0, 'resubmitted 1 dead letters']);
    await listed({ reason: { exact: 'UNKNOWN_ENDPOINT' }, state: { exact: 'OPEN' } }, 1);
  });

  it('answers UNAVAILABLE when no webhook-dispatcher takes the command', async () => {
    await stack.kill('webhook-dispatcher', 'SIGTERM');
    const { errors } = await stack.graphql('mutation { resubmitDeadLetters(filters: { app: { exact: "ingest" } }) }');
    expect(errors?.[0]?.extensions.code).toBe('UNAVAILABLE');
    expect(errors?.[0]?.message).toBe('no webhook-dispatcher is running to take the command; retry later');
  });
});
