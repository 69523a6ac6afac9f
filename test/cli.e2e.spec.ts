import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cli } from './support/cli.js';
import { freshEvent } from './support/fixtures.js';
import { DATABASE_URL, TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const COMMANDS = ['quickstart', 'endpoints', 'filters', 'profiles', 'profiles upsert', 'profiles delete', 'lag', 'dead-letters', 'dead-letters list', 'dead-letters resubmit', 'dead-letters discard', 'migrate', 'simulate', 'watch'];

/** Every command of the CLI run against a running stack: what it prints, and what it changed in the service. */
describe('npx event-service', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers --help for every command, and a refusal with one line and exit code 1', async () => {
    const helps = await Promise.all(COMMANDS.map(async (command) => ({ command, help: await cli(stack, [...command.split(' '), '--help']) })));
    for (const { command, help } of helps) {
      expect({ command, code: help.code, usage: help.stdout.split('\n')[0] }).toEqual({ command, code: 0, usage: expect.stringMatching(new RegExp(`^Usage: event-service ${command}`)) });
    }
    const refused = await cli(stack, ['endpoints'], { env: { EVENT_SERVICE_TOKEN: 'not-a-token-0123456789' } });
    expect([refused.code, refused.stderr.trim()]).toEqual([1, 'event-service: UNAUTHENTICATED: a valid token is required (header Token or Authorization: Bearer)']);
    const badMix = await cli(stack, ['simulate', '--mix', 'smile=3']);
    expect(badMix.code).toBe(1);
    expect(badMix.stderr).toContain('--mix: unknown event type smile');
  });

  it('lists endpoints and filters, reports each consumer’s lag, and runs the migration step', async () => {
    const endpoint = await stack.createWebsocketEndpoint('listed by the cli');
    const filter = await stack.createEventFilter({ name: 'listed filter', endpointIds: [endpoint], in: { eventTypes: ['har'] } });

    const endpoints = await cli(stack, ['endpoints']);
    expect(endpoints.stdout).toMatch(new RegExp(`^${endpoint}\\s+WEB_SOCKET\\s+ACTIVE\\s+listed by the cli$`, 'm'));
    const filters = await cli(stack, ['filters']);
    expect(filters.stdout).toMatch(new RegExp(`^${filter}\\s+listed filter\\s+1\\s+eventTypes=har$`, 'm'));
    const lag = JSON.parse((await cli(stack, ['lag', '--json'])).stdout) as Array<{ app: string; consumer: string; exists: boolean }>;
    expect(lag.map(({ app, consumer, exists }) => `${app}/${consumer}/${exists}`)).toEqual([
      'ingest/ingest/true',
      'profile-sync/profile-sync/true',
      'filter-router/filter-router/true',
      // This stack runs no dispatcher: its consumers are not made yet.
      'webhook-dispatcher/webhook-dispatcher/false',
      'webhook-dispatcher/delivery-projector/false',
      'webhook-dispatcher/dead-letter-projector/false',
    ]);
    const migrate = await cli(stack, ['migrate'], { env: { DATABASE_URL, DATABASE_SCHEMA: stack.schema } });
    expect([migrate.code, migrate.stdout.split('\n')[0]]).toEqual([0, `${stack.schema} is up to date`]);
  });

  it('watches an endpoint: prints each event as it arrives, and stops after --count', async () => {
    const endpoint = await stack.createWebsocketEndpoint('watched by the cli');
    await stack.waitForConfig();
    const events = [freshEvent(), freshEvent({ type: 'roi' })];
    const connections = async () => (await stack.metrics('websocket-gateway')).value('event_service_websocket_connections');
    const before = await connections();
    const watched = cli(stack, ['watch', endpoint, '--count', '2']);
    // Connected once the gateway counts it; then the events go in.
    await waitFor(async () => (await connections()) > before, { what: 'the watch to connect' });
    for (const event of events) expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    const run = await watched;
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`id=${events[0]!.event.id}`);
    expect(lines[0]).toMatch(/ identification /);
    expect(lines[1]).toContain(`id=${events[1]!.event.id}`);
  });

  it('simulates a site over NATS: the mix it tallies arrives, and each deletion makes the lost event it expects', async () => {
    const endpoint = await stack.createWebsocketEndpoint('everything simulated');
    const everything = await TestClient.connect(stack.websocketUrl(endpoint));
    await stack.waitForConfig();
    const lostBefore = (await stack.graphql('{ lostEvents { totalCount } }')).data.lostEvents.totalCount;

    const run = await cli(stack, ['simulate', '--over', 'nats', '--prefix', stack.prefix, '--nats-url', stack.natsUrl, '--events', '120', '--profiles', '30', '--delete-every', '25', '--seed', '7', '--json']);

    expect(run.code).toBe(0);
    const tally = JSON.parse(run.stdout) as { events: number; byType: Record<string, number>; candidates: Record<string, number>; profilesDeleted: number; lostExpected: number };
    expect(tally.events).toBe(120);
    expect(Object.values(tally.byType).reduce((sum, count) => sum + count, 0)).toBe(120);
    expect(Object.keys(tally.candidates).sort()).toEqual(['1', '2', '3']);
    expect(tally.profilesDeleted).toBe(4);
    expect(tally.lostExpected).toBe(4);
    // Every event but the lost ones reaches an endpoint without filters, in the types the tally counts.
    await everything.waitForEvents(120 - tally.lostExpected);
    const types = everything.events.reduce<Record<string, number>>((counts, event) => ({ ...counts, [event.type]: (counts[event.type] ?? 0) + 1 }), {});
    expect(types).toEqual({ ...Object.fromEntries(Object.entries(tally.byType).filter(([, count]) => count > 0)), identification: tally.byType.identification! - tally.lostExpected });
    for (const event of everything.events.filter((delivered) => delivered.type === 'identification')) expect(event.candidates!.length).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await stack.graphql('{ lostEvents { totalCount } }')).data.lostEvents.totalCount === lostBefore + tally.lostExpected, { what: 'the lost events to be stored' });
    everything.close();
  });

  it('announces and deletes a profile through the API: its watchlists replace an event’s, and its deletion loses the next event of it alone', async () => {
    const endpoint = await stack.createWebsocketEndpoint('profiles by the cli');
    const client = await TestClient.connect(stack.websocketUrl(endpoint));
    await stack.waitForConfig();
    const [profile, watchlist] = [randomUUID(), randomUUID()];
    const upsert = await cli(stack, ['profiles', 'upsert', profile, '--group', `${watchlist}:red.500`]);
    expect(upsert.stdout.trim()).toBe(`profile ${profile} upserted with 1 watchlists`);
    const event = freshEvent();
    event.candidates[0].profile.id = profile;
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    await client.waitForEvents(1);
    expect(client.events[0]!.candidates![0]!.profile_groups).toEqual([{ id: watchlist, color: 'red.500' }]);

    const deleted = await cli(stack, ['profiles', 'delete', profile]);
    expect(deleted.stdout.trim()).toBe(`profile ${profile} deleted`);
    const after = freshEvent();
    after.candidates[0].profile.id = profile;
    expect((await stack.postEvent(JSON.stringify(after))).status).toBe(202);
    await waitFor(async () => (await stack.graphql('query($id: ID!) { lostEvents(filters: { id: { exact: $id } }) { totalCount } }', { id: after.event.id })).data.lostEvents.totalCount === 1, { what: 'the event to be lost' });
    client.close();
  });
});
