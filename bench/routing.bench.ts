import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { headers } from '@nats-io/transport-node';
import { ConfigKeys, ensureStreams, NatsClient, openConfigBucket, routingHeaders, type EndpointRecord, type FilterRecord } from '@app/messaging';
import { AppProcess } from '../test/support/app-process.js';
import { deleteStreamsOf, NATS_URL } from '../test/support/stack.js';
import { freePort } from '../test/support/ports.js';
import { waitFor } from '../test/support/wait.js';
import { simulatedEvents } from '@app/simulator';

/**
 * Routing throughput of filter-router at 10,000 endpoints and 10,000,
 * 100,000 and 1,000,000 filters. Every endpoint has at least one filter; each
 * event passes the filters of exactly 10 endpoints in every run, so the runs
 * differ only in filters that cannot match (other cameras, agents, watchlists
 * or event types). Config is written straight into the config bucket (as the
 * api would) to keep set-up time reasonable; the router loads it as in production.
 * If the router dies, the run ends at once with its output and a non-zero exit.
 */
const ENDPOINTS = 10_000;
const MATCHING = 10;
const FILTER_COUNTS = (process.env.FILTER_COUNTS ?? '10000,100000,1000000').split(',').map(Number);
const EVENTS = Number(process.env.ROUTING_EVENTS ?? 10_000);

const CAMERA = '72aa3a70-0fc1-46f1-8a8e-eb50cd4f13a3';
const AGENT = 'a593c1be-d13e-4244-8179-1df0a6b725f7';
const GROUP = '82e7d0c3-6e69-425b-ab79-faa19c2d9fe7';

function nonMatchingFilter(index: number, endpointId: string): FilterRecord {
  const filter: FilterRecord = { id: randomUUID(), endpointIds: [endpointId], cameraIds: [], agentIds: [], profileGroupIds: [], eventTypes: [], version: 1 };
  switch (index % 4) {
    case 0:
      filter.cameraIds = [randomUUID()];
      filter.eventTypes = ['identification'];
      break;
    case 1:
      filter.agentIds = [randomUUID(), randomUUID()];
      break;
    case 2:
      filter.profileGroupIds = [randomUUID()];
      break;
    default:
      filter.eventTypes = ['roi', 'crossing'];
  }
  return filter;
}

async function run(filterCount: number): Promise<{ eventsPerSecond: number; deliveriesPerSecond: number; loadSeconds: number; rssMb: number }> {
  const prefix = `rb${randomBytes(3).toString('hex')}`;
  const nats = await NatsClient.connect({ url: NATS_URL, prefix, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 120_000, connectionName: 'bench-routing' });
  let router: AppProcess | null = null;
  try {
    await ensureStreams(nats);
    const bucket = await openConfigBucket(nats);
    const writes = new Set<Promise<unknown>>();
    const put = async (key: string, value: unknown) => {
      const write = bucket.put(key, JSON.stringify(value)).finally(() => writes.delete(write));
      writes.add(write);
      if (writes.size >= 2_000) await Promise.race(writes);
    };
    const endpoints: EndpointRecord[] = Array.from({ length: ENDPOINTS }, (_, index) => ({ id: randomUUID(), name: `e${index}`, type: 'WEB_HOOK', meta: { url: 'https://receiver.example/hook' }, state: 'ACTIVE', resumeGeneration: 0, version: 1 }));
    for (const endpoint of endpoints) await put(ConfigKeys.endpoint(endpoint.id), endpoint);
    for (let index = 0; index < filterCount; index += 1) {
      const filter: FilterRecord =
        index < MATCHING
          ? { id: randomUUID(), endpointIds: [endpoints[index]!.id], cameraIds: [CAMERA], agentIds: [], profileGroupIds: [], eventTypes: ['identification'], version: 1 }
          : nonMatchingFilter(index, endpoints[index % ENDPOINTS]!.id);
      await put(ConfigKeys.filter(filter.id), filter);
    }
    await Promise.all(writes);
    // What the api writes once it has published the whole config: the router's view is loaded only then.
    await bucket.put(ConfigKeys.published, JSON.stringify({ at: new Date().toISOString() }));

    const health = await freePort();
    const loadStarted = performance.now();
    // Its output is kept (and shown should it die); waitFor below fails at once if it does.
    router = AppProcess.spawn('filter-router', { PATH: process.env.PATH, NATS_URL, NATS_PREFIX: prefix, HEALTH_PORT: String(health), LOG_FORMAT: 'json' });
    const readiness = async () => (await fetch(`http://127.0.0.1:${health}/readyz`)).json() as Promise<Record<string, any>>;
    await waitFor(async () => (await readiness()).filters === filterCount, { timeoutMs: 600_000, intervalMs: 200, what: 'the router to load every filter' });
    const loadSeconds = (performance.now() - loadStarted) / 1_000;

    const events = simulatedEvents(EVENTS);
    const started = performance.now();
    const inFlight = new Set<Promise<unknown>>();
    for (const event of events) {
      const eventHeaders = headers();
      // As ingest publishes them: the event id and its routing fields in headers.
      for (const [name, value] of Object.entries(routingHeaders(event.id, { type: 'identification', cameraId: CAMERA, agentId: AGENT, profileGroupIds: [GROUP] }))) {
        eventHeaders.set(name, value);
      }
      const publish = nats.jetstream.publish(nats.topology.routableEvents, event.data, { msgID: event.id, headers: eventHeaders }).finally(() => inFlight.delete(publish));
      inFlight.add(publish);
      if (inFlight.size >= 256) await Promise.race(inFlight);
    }
    const expected = EVENTS * MATCHING;
    await waitFor(async () => (await nats.manager.streams.info(nats.topology.streams.deliveries)).state.messages >= expected, {
      timeoutMs: 600_000,
      intervalMs: 20,
      what: `${expected} deliveries`,
    });
    const seconds = (performance.now() - started) / 1_000;
    const stored = (await nats.manager.streams.info(nats.topology.streams.deliveries)).state.messages;
    const metrics = await (await fetch(`http://127.0.0.1:${health}/metrics`)).text();
    const rssMb = Number(/^process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? 0) / 1_048_576;
    if (stored !== expected) throw new Error(`expected ${expected} deliveries, the stream holds ${stored}`);
    return { eventsPerSecond: EVENTS / seconds, deliveriesPerSecond: expected / seconds, loadSeconds, rssMb };
  } finally {
    await router?.kill('SIGKILL');
    await deleteStreamsOf(nats.manager, prefix);
    await nats.close();
  }
}

const results: Array<[number, Awaited<ReturnType<typeof run>>]> = [];
for (const filterCount of FILTER_COUNTS) {
  const result = await run(filterCount);
  results.push([filterCount, result]);
  console.log(
    `${String(filterCount).padStart(9)} filters: ${result.eventsPerSecond.toFixed(0)} events/s, ${result.deliveriesPerSecond.toFixed(0)} deliveries/s` +
      ` | config loaded in ${result.loadSeconds.toFixed(1)} s, router RSS ${result.rssMb.toFixed(0)} MB`,
  );
}
const [smallest, largest] = [results[0]![1], results[results.length - 1]![1]];
console.log(`ratio largest/smallest: ${(largest.eventsPerSecond / smallest.eventsPerSecond).toFixed(2)} (goal >= 0.8)`);
process.exit(0);
