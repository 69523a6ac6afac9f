import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AppName } from '../scripts/local-stack.js';
import { freshEvent, seedIdentification, type EventJson } from './support/fixtures.js';
import type { MetricSamples } from './support/metrics.js';
import { Receiver } from './support/receiver.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const APPS: readonly AppName[] = ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'];

/** A series the test expects to grow: where it is scraped, its name (`_count` of a histogram) and labels. */
interface Series {
  app: AppName;
  name: string;
  labels?: Record<string, string>;
}

/** Each must grow: a series the apps create at 0 up front is exported before it counts anything, so being there is not enough. */
const GROWING: readonly Series[] = [
  { app: 'ingest', name: 'event_service_events_ingested_total', labels: { source: 'http' } },
  { app: 'ingest', name: 'event_service_events_ingested_total', labels: { source: 'nats' } },
  { app: 'ingest', name: 'event_service_events_rejected_total', labels: { reason: 'INVALID_EVENT' } },
  { app: 'ingest', name: 'event_service_events_rejected_total', labels: { reason: 'UNAUTHENTICATED' } },
  { app: 'ingest', name: 'event_service_dead_letters_total', labels: { app: 'ingest', reason: 'INVALID_EVENT' } },
  { app: 'profile-sync', name: 'event_service_events_lost_total' },
  { app: 'filter-router', name: 'event_service_events_routed_total' },
  { app: 'filter-router', name: 'event_service_deliveries_published_total', labels: { endpoint_type: 'websocket' } },
  { app: 'filter-router', name: 'event_service_deliveries_published_total', labels: { endpoint_type: 'webhook' } },
  { app: 'websocket-gateway', name: 'event_service_websocket_connections' },
  { app: 'websocket-gateway', name: 'event_service_websocket_frames_sent_total' },
  { app: 'websocket-gateway', name: 'event_service_delivery_latency_seconds_count', labels: { endpoint_type: 'websocket' } },
  { app: 'webhook-dispatcher', name: 'event_service_webhook_attempts_total', labels: { outcome: 'retry', status_class: '5xx' } },
  { app: 'webhook-dispatcher', name: 'event_service_webhook_attempts_total', labels: { outcome: 'delivered', status_class: '2xx' } },
  { app: 'webhook-dispatcher', name: 'event_service_webhook_attempt_duration_seconds_count' },
  { app: 'webhook-dispatcher', name: 'event_service_delivery_latency_seconds_count', labels: { endpoint_type: 'webhook' } },
  { app: 'webhook-dispatcher', name: 'event_service_webhook_success_latency_seconds_count' },
];

/** Every JetStream consumer, by the app that reports its backlog. */
const CONSUMERS: ReadonlyArray<[AppName, string]> = [
  ['ingest', 'ingest'],
  ['profile-sync', 'profile-sync'],
  ['filter-router', 'filter-router'],
  ['websocket-gateway', 'delivery-feed'],
  ['webhook-dispatcher', 'webhook-dispatcher'],
  ['webhook-dispatcher', 'delivery-projector'],
  ['webhook-dispatcher', 'dead-letter-projector'],
];

const describeSeries = ({ app, name, labels }: Series) => `${app} ${name}${labels ? JSON.stringify(labels) : ''}`;

/** An identification whose one candidate is `profileId`. */
function identificationOf(profileId: string): EventJson {
  const event = freshEvent();
  const template = seedIdentification().candidates[0];
  event.candidates = [{ ...template, profile: { ...template.profile, id: profileId } }];
  return event;
}

/** The JSON lines of an app's output (LOG_FORMAT=json). */
function jsonLines(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('metrics and logs', () => {
  let stack: TestStack;
  let flaky: Receiver;
  let hanging: Receiver;
  let websocketEndpoint: string;
  const flakyCamera = randomUUID();
  const hangingCamera = randomUUID();

  beforeAll(async () => {
    // The first webhook attempt fails (a retry), the second is delivered.
    flaky = await Receiver.start((index) => ({ status: index === 0 ? 500 : 204 }));
    hanging = await Receiver.start(() => 'hang');
    stack = await TestStack.start({
      apps: APPS,
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', LOG_FORMAT: 'json' },
      appEnv: {
        'webhook-dispatcher': { WEBHOOK_RETRY_SCHEDULE: '300ms', WEBHOOK_TIMEOUT: '60s' },
        'filter-router': { LOG_LEVEL: 'debug' },
        ingest: { LOG_LEVEL: 'debug' },
        'websocket-gateway': { LOG_LEVEL: 'debug' },
      },
    });
    websocketEndpoint = await stack.createWebsocketEndpoint('metrics');
    for (const [receiver, camera] of [
      [flaky, flakyCamera],
      [hanging, hangingCamera],
    ] as const) {
      await stack.createEventFilter({ name: 'camera', endpointIds: [await stack.createWebhookEndpoint(receiver.url, 'metrics')], in: { cameraIds: [camera] } });
    }
    await stack.waitForConfig();
  });

  afterAll(async () => {
    for (const response of hanging?.hanging ?? []) response.end();
    await stack?.stop();
    await flaky?.close();
    await hanging?.close();
  });

  const scrapeAll = async (): Promise<Map<AppName, MetricSamples>> => new Map(await Promise.all(APPS.map(async (app) => [app, await stack.metrics(app)] as const)));

  it('exports every domain series, and each moves as events flow, are rejected, lost and dead-lettered', async () => {
    const before = await scrapeAll();
    // The series the alerts' increase() reads exist at 0 before anything happens (a series first seen at 1 would not
    // count): every dead-letter reason of each consumer app, every outcome and status class of the webhook attempts.
    for (const app of ['ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'] as const) {
      for (const reason of ['INVALID_EVENT', 'MISSING_HEADERS', 'HANDLER_FAILED']) {
        const labels = { app, reason };
        expect([app, reason, before.get(app)!.has('event_service_dead_letters_total', labels), before.get(app)!.value('event_service_dead_letters_total', labels)]).toEqual([app, reason, true, 0]);
      }
    }
    // The api and the gateway run no JetStream consumer of their own (the gateway's feed is not one that dead-letters).
    for (const app of ['api', 'websocket-gateway'] as const) expect([app, before.get(app)!.has('event_service_dead_letters_total')]).toEqual([app, false]);
    for (const labels of [{ outcome: 'failed', status_class: 'none' }, { outcome: 'failed', status_class: '4xx' }, { outcome: 'retry', status_class: '5xx' }]) {
      expect([labels, before.get('webhook-dispatcher')!.has('event_service_webhook_attempts_total', labels)]).toEqual([labels, true]);
    }

    const client = await TestClient.connect(stack.websocketUrl(websocketEndpoint));
    // Accepted over HTTP; to the websocket client, and to the flaky webhook (500, then 204 on the retry).
    const viaHttp = freshEvent();
    viaHttp.camera.id = flakyCamera;
    expect((await stack.postEvent(JSON.stringify(viaHttp))).status).toBe(202);
    // Accepted over NATS.
    const agentId = randomUUID();
    const viaNats = freshEvent({ agentId });
    await stack.publishAgentEvent(agentId, JSON.stringify(viaNats));
    // Refused: over HTTP (a bad event, no token), and over NATS, which dead-letters it.
    expect((await stack.postEvent(JSON.stringify({ ...freshEvent(), type: 'smile' }))).status).toBe(400);
    expect((await stack.postEvent(JSON.stringify(freshEvent()), null)).status).toBe(401);
    const deadLettered = { ...freshEvent({ agentId }), type: 'smile' };
    await stack.publishAgentEvent(agentId, JSON.stringify(deadLettered));
    // Lost: its one candidate's profile is deleted.
    const profile = randomUUID();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [{ id: randomUUID(), color: null }] } });
    await stack.publishProfile({ deleted: { id: profile } });
    const lost = identificationOf(profile);
    expect((await stack.postEvent(JSON.stringify(lost))).status).toBe(202);

    await client.waitForEvents(2, 30_000);
    await waitFor(() => flaky.requests.some((request) => request.status === 204), { timeoutMs: 30_000, what: 'the webhook delivered on its retry' });

    const grown = (after: Map<AppName, MetricSamples>) => GROWING.filter((series) => !(after.get(series.app)!.value(series.name, series.labels) > before.get(series.app)!.value(series.name, series.labels)));
    let still: Series[] = [];
    await waitFor(
      async () => {
        still = grown(await scrapeAll());
        return still.length === 0;
      },
      { timeoutMs: 30_000, what: 'every series to grow' },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; not grown: ${still.map(describeSeries).join(', ')}`);
    });

    // Ingest's lines about an agent's message carry the event's id from its JSON (an agent's message has no
    // headers of the data path): the dead letter's warning, and (at debug) each event accepted; the gateway's
    // line about the live frame too.
    const lineOf = (app: AppName, level: string, text: string, event: EventJson) =>
      jsonLines(stack.output(app, 500)).find((entry) => entry['level'] === level && String(entry['message']).includes(text) && entry['event_id'] === String(event.event.id).toLowerCase());
    await waitFor(() => lineOf('ingest', 'warn', 'dead-lettered', deadLettered), { what: 'ingest’s dead-letter line with event_id' });
    expect(lineOf('ingest', 'debug', 'accepted from nats', viaNats)).toBeDefined();
    expect(lineOf('ingest', 'debug', 'accepted from http', viaHttp)).toBeDefined();
    expect(lineOf('websocket-gateway', 'debug', 'live to 1 of 1 clients', viaHttp)).toBeDefined();

    // The websocket latency is ingest's acceptance to the frame: seconds at most here, not the time since 1970.
    const gateway = await stack.metrics('websocket-gateway');
    const latencySum = gateway.value('event_service_delivery_latency_seconds_sum', { endpoint_type: 'websocket' });
    expect(latencySum / gateway.value('event_service_delivery_latency_seconds_count', { endpoint_type: 'websocket' })).toBeLessThan(30);
    client.close();
  });

  it('reports every JetStream consumer’s backlog, and a delivery held by a slow receiver as unacknowledged', async () => {
    const reported = async () => {
      for (const [app, consumer] of CONSUMERS) {
        const samples = await stack.metrics(app);
        if (!samples.has('event_service_consumer_pending_messages', { consumer }) || !samples.has('event_service_consumer_ack_pending', { consumer })) return false;
      }
      return true;
    };
    await waitFor(reported, { what: 'every consumer’s backlog gauges' });

    const held = freshEvent();
    held.camera.id = hangingCamera;
    expect((await stack.postEvent(JSON.stringify(held))).status).toBe(202);
    await waitFor(() => hanging.hanging.size === 1, { what: 'the slow receiver to get the delivery' });
    // The fresh delivery's message stays unacknowledged while its first attempt waits for the answer.
    await waitFor(async () => (await stack.metrics('webhook-dispatcher')).value('event_service_consumer_ack_pending', { consumer: 'webhook-dispatcher' }) >= 1, {
      what: 'the held delivery in the dispatcher’s ack pending',
    });
    for (const response of hanging.hanging) response.end();
    await waitFor(async () => (await stack.metrics('webhook-dispatcher')).value('event_service_consumer_ack_pending', { consumer: 'webhook-dispatcher' }) === 0, {
      what: 'the delivery acknowledged once answered',
    });
  });

  it('logs a client’s bad GraphQL input as one warning without a stack, and an event’s lines with its id', async () => {
    const result = await stack.graphql('mutation { createWebSocketEndpoint(name: "  ") { id } }');
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });

    const line = await waitFor(() => jsonLines(stack.output('api', 200)).find((entry) => entry['level'] === 'warn' && String(entry['message']).includes('BAD_USER_INPUT')), {
      what: 'the warning in the api’s log',
    });
    expect(line).toMatchObject({ context: 'ApiErrors', code: 'BAD_USER_INPUT' });
    expect(String(line['message'])).toMatch(/^Mutation\.createWebSocketEndpoint: BAD_USER_INPUT: name: /);
    expect(line).not.toHaveProperty('stack');
    expect(line).not.toHaveProperty('error');
    const errors = jsonLines(stack.output('api', 200)).filter((entry) => entry['level'] === 'error');
    expect(errors).toEqual([]);

    // An agent's event whose id is not a UUID is dead-lettered, and its id stays out of the log line (it is the agent's text).
    const agentId = randomUUID();
    const forged = freshEvent({ agentId });
    forged.event.id = 'x"} {"level":"error","event_id":"forged';
    await stack.publishAgentEvent(agentId, JSON.stringify(forged));
    const forgedLine = await waitFor(
      () => jsonLines(stack.output('ingest', 500)).find((entry) => entry['level'] === 'warn' && String(entry['message']).includes('dead-lettered') && String(entry['message']).includes('event.id')),
      { what: 'ingest’s dead-letter line for the forged id' },
    );
    expect(forgedLine).not.toHaveProperty('event_id');

    // filter-router runs at LOG_LEVEL=debug: its line about routing an event carries the event's id as a field.
    const event = freshEvent();
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    const eventKey = String(event.event.id).toLowerCase();
    await waitFor(() => jsonLines(stack.output('filter-router', 200)).some((entry) => entry['event_id'] === eventKey && entry['level'] === 'debug'), {
      what: 'the router’s line about the event, with event_id',
    });
  });
});
