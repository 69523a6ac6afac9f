import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import * as hdr from 'hdr-histogram-js';
import { WebSocket } from 'ws';
import { NatsClient } from '@app/messaging';
import { Simulation, DEFAULT_SIMULATION, simulatedEvents, type SimulationOptions } from '@app/simulator';
import { NATS_URL, PRODUCTION_LEASES, TestStack, type Instance } from '../test/support/stack.js';
import { checkWaitGuards, waitFor } from '../test/support/wait.js';
import { CpuMeter, natsServerPid, peakRssOf } from './process-stats.js';

/**
 * The whole pipeline as production runs it, against a bare pipeline of the
 * same shape, in one run (`npm run bench`; docs/benchmarks.md, The whole pipeline):
 *
 *   pipeline: agent subject → ingest → profile-sync → filter-router → websocket-gateway → 500 websocket clients
 *                                                                   → webhook-dispatcher → 500 webhook endpoints
 *   bare:     S1 → forwarder → S2 → forwarder → S3 → fan-out (as many deliveries per event) → S4
 *                                                   → stream-fed ws broadcaster → 500 websocket clients
 *                                                   → consume → POST → ack dispatcher → the same receiver
 *
 * Every app is its own process with JSON logs and its metrics listener, on
 * the shared nats-server. The load is the agent simulator's mix (seeded) on
 * 250 cameras of 25 agents; 1,000 endpoints (500 websocket, 500 webhook) and
 * 1,000 filters, one per endpoint on one camera, so each event goes to two
 * websocket and two webhook endpoints (4 deliveries). Per run: each side's
 * sustained rate (PIPELINE_EVENTS published as fast as 256 unacknowledged
 * publishes allow, until the last delivery arrived), the CPU seconds each
 * process used meanwhile, then each side's latency (agent publish → websocket
 * frame, → webhook request) at half the bare side's rate of that run, for
 * PIPELINE_LATENCY_SECONDS. PIPELINE_RUNS runs; the medians are printed last.
 * Nothing is asserted.
 */
const EVENTS = Number(process.env.PIPELINE_EVENTS ?? 10_000);
const RUNS = Number(process.env.PIPELINE_RUNS ?? 3);
const LATENCY_SECONDS = Number(process.env.PIPELINE_LATENCY_SECONDS ?? 10);
const SHAPE: SimulationOptions = { ...DEFAULT_SIMULATION, seed: 26, agents: 25, camerasPerAgent: 10, profiles: 1_000, watchlists: 20 };
const WS_ENDPOINTS = 500;
const WEBHOOK_ENDPOINTS = 500;
/** Deliveries of each event: two websocket endpoints, two webhook endpoints (endpoint i takes camera i mod 250). */
const WS_PER_EVENT = 2;
const WH_PER_EVENT = 2;
const WINDOW = 256;

type Kind = 'ws' | 'wh';

/** One measured load: when each event was published, and its deliveries as they arrive. */
class Phase {
  readonly latency = { ws: histogram(), wh: histogram() };
  readonly done = { ws: 0, wh: 0 };
  readonly last = { ws: 0, wh: 0 };
  /** When each event reached all its endpoints of a kind (ms since the first publish), in order of completion. */
  readonly completions = { ws: [] as number[], wh: [] as number[] };
  /** When the last event was published (ms since the first publish). */
  publishedAll = 0;
  private readonly sentAt = new Map<string, number>();
  private readonly left = new Map<string, { ws: number; wh: number }>();
  started = 0;

  sent(id: string): void {
    this.sentAt.set(id, performance.now());
    this.left.set(id, { ws: WS_PER_EVENT, wh: WH_PER_EVENT });
  }

  arrived(kind: Kind, id: string): void {
    const sent = this.sentAt.get(id);
    const left = this.left.get(id);
    if (sent === undefined || !left || left[kind] === 0) return;
    const now = performance.now();
    this.latency[kind].recordValue(Math.max(1, Math.round((now - sent) * 1_000)));
    left[kind] -= 1;
    if (left[kind] === 0) {
      this.done[kind] += 1;
      this.last[kind] = now;
      this.completions[kind].push(now - this.started);
    }
  }

  /** Events per second that reached all their endpoints of a kind, from the first publish to the last arrival. */
  rate(kind: Kind): number {
    return this.done[kind] / ((this.last[kind] - this.started) / 1_000);
  }

  figures(kind: Kind): { p50: number; p99: number; max: number } {
    const of = (percentile: number) => this.latency[kind].getValueAtPercentile(percentile) / 1_000;
    return { p50: of(50), p99: of(99), max: this.latency[kind].maxValue / 1_000 };
  }
}

function histogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

let phase: Phase | null = null;
const idOf = (data: Buffer | Uint8Array): string => (JSON.parse(Buffer.from(data).toString('utf8')) as { event: { id: string } }).event.id;

/** One receiver for both sides' webhook requests: the pipeline's carry `webhook-id`, the bare dispatcher's only the body. */
async function startReceiver(): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const header = request.headers['webhook-id'];
      phase?.arrived('wh', typeof header === 'string' ? header : idOf(Buffer.concat(chunks)));
      response.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

async function connectClients(urls: string[]): Promise<WebSocket[]> {
  return Promise.all(
    urls.map(
      (url) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(url);
          socket.on('message', (data: Buffer) => phase?.arrived('ws', idOf(data)));
          socket.once('open', () => resolve(socket));
          socket.once('error', reject);
        }),
    ),
  );
}

/** Runs `tasks` with at most `limit` at once. */
async function pooled<T>(count: number, limit: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const index = next++;
        results[index] = await task(index);
      }
    }),
  );
  return results;
}

interface Side {
  name: 'pipeline' | 'bare';
  publish(event: { id: string; agentId: string; data: Uint8Array }): Promise<unknown>;
  /** The processes doing the side's work, by name (nats-server included). */
  processes: Map<string, number>;
  stop(): Promise<void>;
}

const cameras = new Simulation(SHAPE).agents.flatMap((agent) => agent.cameras.map((camera) => camera.id));
const cameraOf = (endpoint: number) => cameras[endpoint % cameras.length]!;
const natsPid = natsServerPid(Number(new URL(NATS_URL).port || 4222));

async function pipelineSide(receiverUrl: string): Promise<Side & { clients: WebSocket[] }> {
  const dataPath = ['ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'] as const;
  // PIPELINE_PROFILE=<dir>: each data-path app writes a V8 CPU profile there when it stops (bench/cpuprofile-summary.ts reads them).
  const profileDir = process.env.PIPELINE_PROFILE;
  const stack = await TestStack.start({
    apps: ['api', ...dataPath],
    env: { LOG_FORMAT: 'json', WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', STREAM_MAX_BYTES: '4GiB', ...PRODUCTION_LEASES, ...(profileDir ? { CPU_PROFILE_DIR: profileDir } : {}) },
  });
  const ws = await pooled(WS_ENDPOINTS, 8, (index) => stack.createWebsocketEndpoint(`bench ws ${index}`));
  const hooks = await pooled(WEBHOOK_ENDPOINTS, 8, (index) => stack.createWebhookEndpoint(`${receiverUrl}/hook/${index}`, `bench hook ${index}`));
  const endpoints = [...ws, ...hooks];
  await pooled(endpoints.length, 8, (index) => stack.createEventFilter({ name: `bench ${index}`, endpointIds: [endpoints[index]!], in: { cameraIds: [cameraOf(index)] } }));
  await stack.waitForConfig();
  const nats = await stack.natsClient();
  for (const profile of new Simulation(SHAPE).profiles) {
    await nats.jetstream.publish(nats.topology.profileUpserted, new TextEncoder().encode(JSON.stringify(profile)), { msgID: `profile:${profile.id}` });
  }
  const clients = await connectClients(ws.map((id) => stack.websocketUrl(id)));
  const processes = new Map<string, number>();
  for (const app of dataPath) processes.set(app, stack.pid(app as Instance));
  if (natsPid) processes.set('nats-server', natsPid);
  return {
    name: 'pipeline',
    clients,
    processes,
    publish: (event) => nats.jetstream.publish(nats.topology.agentEvents(event.agentId), event.data, { msgID: event.id }),
    async stop() {
      for (const client of clients) client.terminate();
      await stack.stop();
    },
  };
}

async function bareSide(receiverUrl: string): Promise<Side & { clients: WebSocket[] }> {
  const prefix = `bp${randomBytes(3).toString('hex')}`;
  const client = await NatsClient.connect({ url: NATS_URL, prefix, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 120_000, connectionName: 'bench-bare-pipeline' });
  const streams = [
    { name: `${prefix.toUpperCase()}_S1`, subjects: [`${prefix}.s1.>`] },
    { name: `${prefix.toUpperCase()}_S2`, subjects: [`${prefix}.s2`] },
    { name: `${prefix.toUpperCase()}_S3`, subjects: [`${prefix}.s3`] },
    { name: `${prefix.toUpperCase()}_S4`, subjects: [`${prefix}.d.>`] },
  ];
  for (const stream of streams) {
    await client.manager.streams.add({ ...stream, storage: StorageType.File, retention: RetentionPolicy.Limits, max_age: nanos(3_600_000), duplicate_window: nanos(120_000) });
  }
  const endpoints = Array.from({ length: WS_ENDPOINTS + WEBHOOK_ENDPOINTS }, (_, index) => `e${index}`);
  const routes: Record<string, Array<[Kind, string]>> = {};
  for (const [index, endpoint] of endpoints.entries()) (routes[cameraOf(index)] ??= []).push([index < WS_ENDPOINTS ? 'ws' : 'wh', endpoint]);
  const routesFile = join(tmpdir(), `${prefix}-routes.json`);
  writeFileSync(routesFile, JSON.stringify(routes));

  const children: ChildProcess[] = [];
  const processes = new Map<string, number>();
  const start = async (name: string, script: string, args: string[]): Promise<unknown> => {
    const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, { stdio: 'inherit' });
    children.push(child);
    processes.set(name, child.pid!);
    return new Promise((resolve) => child.once('message', resolve));
  };
  await start('forwarder 1', './bare-forwarder.js', [NATS_URL, streams[0]!.name, `${prefix}.s1.>`, `${prefix}.s2`, 'f1']);
  await start('forwarder 2', './bare-forwarder.js', [NATS_URL, streams[1]!.name, `${prefix}.s2`, `${prefix}.s3`, 'f2']);
  // PIPELINE_BARE_WS=per-endpoint: the broadcaster reads with a consumer per endpoint, as the gateway does;
  // per-delivery: and the fan-out stores each websocket delivery on a subject of its own, as the router does;
  // shared-per-delivery: a subject per delivery, read by one consumer.
  const bareWs = process.env.PIPELINE_BARE_WS;
  if (bareWs && !['per-endpoint', 'per-delivery', 'shared-per-delivery'].includes(bareWs)) throw new Error(`PIPELINE_BARE_WS is per-endpoint, per-delivery or shared-per-delivery, not ${bareWs}`);
  const wsMode = bareWs ? [bareWs] : [];
  const layout = bareWs?.endsWith('per-delivery') ? ['subject-per-delivery'] : [];
  await start('fan-out', './bare-fanout.js', [NATS_URL, streams[2]!.name, `${prefix}.s3`, `${prefix}.d`, 'fanout', routesFile, ...layout]);
  const ready = (await start('ws broadcaster', './bare-ws-feed.js', [NATS_URL, streams[3]!.name, `${prefix}.d.ws.>`, ...wsMode])) as { port: number };
  await start('dispatcher', './bare-dispatcher.js', [NATS_URL, streams[3]!.name, `${prefix}.d.wh.>`, `${receiverUrl}/bare`, String(WINDOW)]);
  if (natsPid) processes.set('nats-server', natsPid);
  const clients = await connectClients(endpoints.slice(0, WS_ENDPOINTS).map((endpoint) => `ws://127.0.0.1:${ready.port}/?endpoint=${endpoint}`));
  return {
    name: 'bare',
    clients,
    processes,
    publish: (event) => client.jetstream.publish(`${prefix}.s1.${event.agentId}`, event.data, { msgID: event.id }),
    async stop() {
      for (const socket of clients) socket.terminate();
      for (const child of children) child.kill('SIGKILL');
      for (const stream of streams) await client.manager.streams.delete(stream.name).catch(() => undefined);
      await client.close();
    },
  };
}

/**
 * Publishes `count` simulated events to a side (at `ratePerSecond`, or as
 * fast as WINDOW unacknowledged publishes allow) and waits until every
 * delivery arrived (at most two minutes: the figures count what did).
 */
async function load(side: Side, count: number, ratePerSecond: number | null): Promise<Phase> {
  const events = simulatedEvents(count, SHAPE);
  const measured = new Phase();
  phase = measured;
  measured.started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (const [index, event] of events.entries()) {
    checkWaitGuards();
    if (ratePerSecond !== null) {
      const wait = measured.started + (index * 1_000) / ratePerSecond - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    measured.sent(event.id);
    const task = side.publish(event).finally(() => inFlight.delete(task));
    inFlight.add(task);
    if (inFlight.size >= WINDOW) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  measured.publishedAll = performance.now() - measured.started;
  await waitFor(() => measured.done.ws === count && measured.done.wh === count, { timeoutMs: 120_000, intervalMs: 10, what: `every delivery of ${side.name}` }).catch((error: Error) =>
    console.log(`  ${error.message}: ${measured.done.ws} of ${count} events at every websocket endpoint, ${measured.done.wh} at every webhook endpoint`),
  );
  phase = null;
  return measured;
}

interface RunFigures {
  rate: { ws: number; wh: number };
  cpuPer1000: Map<string, number>;
  latency: { ws: { p50: number; p99: number; max: number }; wh: { p50: number; p99: number; max: number } };
}

/**
 * PIPELINE_NATS_PPROF=<base URL> (a nats-server of the bench's own, started with `--profile <port>`, TEST_NATS_URL
 * pointing at it): nats-server's CPU profile over the first NATS_PPROF_SECONDS of a side's sustained load, written to
 * `nats-<side>-<n>.pb.gz` in PIPELINE_PROFILE (or the working directory); bench/pprof-summary.ts reads it.
 */
const NATS_PPROF = process.env.PIPELINE_NATS_PPROF;
const NATS_PPROF_SECONDS = 8;
let natsProfiles = 0;

async function natsProfile(side: string): Promise<void> {
  const response = await fetch(`${NATS_PPROF}/debug/pprof/profile?seconds=${NATS_PPROF_SECONDS}`);
  const file = join(process.env.PIPELINE_PROFILE ?? '.', `nats-${side}-${(natsProfiles += 1)}.pb.gz`);
  writeFileSync(file, Buffer.from(await response.arrayBuffer()));
  console.log(`  ${side.padEnd(8)} nats-server profile: ${file}`);
}

async function measure(side: Side, latencyRateOf: (own: { ws: number; wh: number }) => number): Promise<RunFigures> {
  const meter = new CpuMeter(side.processes);
  const profiled = NATS_PPROF ? natsProfile(side.name).catch((error: Error) => console.log(`  no nats-server profile: ${error.message}`)) : null;
  const throughput = await load(side, EVENTS, null);
  await profiled;
  const cpu = meter.read();
  const cpuPer1000 = new Map([...cpu].map(([name, seconds]) => [name, (seconds / EVENTS) * 1_000]));
  const rate = { ws: throughput.rate('ws'), wh: throughput.rate('wh') };
  console.log(`  ${side.name.padEnd(8)} sustained: ${rate.ws.toFixed(0)} events/s to websocket, ${rate.wh.toFixed(0)} to webhook; CPU s per 1,000 events: ${[...cpuPer1000].map(([name, seconds]) => `${name} ${seconds.toFixed(3)}`).join(', ')}`);
  // Where the time went: a tail (a few endpoints late) reads differently from a steady pace.
  const at = (kind: Kind, share: number) => ((throughput.completions[kind][Math.max(0, Math.ceil(share * throughput.completions[kind].length) - 1)] ?? NaN) / 1_000).toFixed(1);
  console.log(
    `  ${side.name.padEnd(8)} progress: all published (acked) at ${(throughput.publishedAll / 1_000).toFixed(1)} s; events at all their endpoints, 50/90/99/100%:` +
      ` websocket ${at('ws', 0.5)}/${at('ws', 0.9)}/${at('ws', 0.99)}/${at('ws', 1)} s, webhook ${at('wh', 0.5)}/${at('wh', 0.9)}/${at('wh', 0.99)}/${at('wh', 1)} s`,
  );
  const latencyRate = latencyRateOf(rate);
  const latencyRun = await load(side, Math.round(latencyRate * LATENCY_SECONDS), latencyRate);
  const latency = { ws: latencyRun.figures('ws'), wh: latencyRun.figures('wh') };
  console.log(
    `  ${side.name.padEnd(8)} at ${latencyRate.toFixed(0)} events/s: websocket p50 ${latency.ws.p50.toFixed(1)} ms, p99 ${latency.ws.p99.toFixed(1)} ms, max ${latency.ws.max.toFixed(1)} ms;` +
      ` webhook p50 ${latency.wh.p50.toFixed(1)} ms, p99 ${latency.wh.p99.toFixed(1)} ms, max ${latency.wh.max.toFixed(1)} ms`,
  );
  return { rate, cpuPer1000, latency };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const receiver = await startReceiver();
console.log(`setting up: ${WS_ENDPOINTS} websocket and ${WEBHOOK_ENDPOINTS} webhook endpoints, ${cameras.length} cameras, ${WS_PER_EVENT + WH_PER_EVENT} deliveries per event`);
const bare = await bareSide(receiver.url);
// A set-up that fails leaves nothing of the bare side running.
const pipeline = await pipelineSide(receiver.url).catch(async (error: unknown) => {
  await bare.stop();
  throw error;
});
const runs: Array<{ bare: RunFigures; pipeline: RunFigures }> = [];
const peakRss = new Map<string, Map<string, number>>();
try {
  // Warm-up: connections, JIT and the apps' caches, on both sides.
  await load(bare, 2_000, null);
  await load(pipeline, 2_000, null);
  for (let run = 1; run <= RUNS; run += 1) {
    console.log(`run ${run} of ${RUNS}`);
    // Latency at half the bare side's capacity in this run, on both sides.
    const bareFigures = await measure(bare, (own) => Math.min(own.ws, own.wh) / 2);
    const half = Math.min(bareFigures.rate.ws, bareFigures.rate.wh) / 2;
    runs.push({ bare: bareFigures, pipeline: await measure(pipeline, () => half) });
  }
  for (const side of [bare, pipeline]) peakRss.set(side.name, new Map([...side.processes].map(([name, pid]) => [name, peakRssOf(pid)])));
} finally {
  await pipeline.stop();
  await bare.stop();
  receiver.server.closeAllConnections();
  receiver.server.close();
}
const pid = (side: 'bare' | 'pipeline') => (side === 'bare' ? bare : pipeline).processes;
console.log(`\nmedians of ${RUNS} runs (${EVENTS} events each, latency at half the bare side's rate for ${LATENCY_SECONDS} s)`);
for (const kind of ['ws', 'wh'] as const) {
  const label = kind === 'ws' ? 'websocket' : 'webhook';
  const pipelineRate = median(runs.map((run) => run.pipeline.rate[kind]));
  const bareRate = median(runs.map((run) => run.bare.rate[kind]));
  const ratios = runs.map((run) => run.pipeline.rate[kind] / run.bare.rate[kind]);
  console.log(`${label.padEnd(9)} sustained: pipeline ${pipelineRate.toFixed(0)} events/s, bare ${bareRate.toFixed(0)}; ratio ${median(ratios).toFixed(2)} (runs: ${ratios.map((ratio) => ratio.toFixed(2)).join(', ')})`);
  const p99Ratios = runs.map((run) => run.pipeline.latency[kind].p99 / run.bare.latency[kind].p99);
  const of = (side: 'bare' | 'pipeline', key: 'p50' | 'p99' | 'max') => median(runs.map((run) => run[side].latency[kind][key])).toFixed(1);
  console.log(
    `${label.padEnd(9)} latency: pipeline p50 ${of('pipeline', 'p50')} ms, p99 ${of('pipeline', 'p99')} ms, max ${of('pipeline', 'max')} ms; bare p50 ${of('bare', 'p50')} ms, p99 ${of('bare', 'p99')} ms, max ${of('bare', 'max')} ms; p99 ratio ${median(p99Ratios).toFixed(2)}`,
  );
}
for (const side of ['pipeline', 'bare'] as const) {
  const names = [...pid(side).keys()];
  const total = median(runs.map((run) => [...run[side].cpuPer1000.values()].reduce((sum, seconds) => sum + seconds, 0)));
  console.log(`${side.padEnd(8)} CPU s per 1,000 events: ${names.map((name) => `${name} ${median(runs.map((run) => run[side].cpuPer1000.get(name) ?? 0)).toFixed(3)}`).join(', ')}; all ${total.toFixed(3)}`);
  console.log(`${side.padEnd(8)} peak RSS: ${names.map((name) => `${name} ${((peakRss.get(side)?.get(name) ?? 0) / 1_048_576).toFixed(0)} MiB`).join(', ')}`);
}
process.exit(0);
