import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { idKey } from '@app/events';
import { DEFAULT_PARTITIONS, NatsClient, partitionOf } from '@app/messaging';
import { simulatedEvents } from '@app/simulator';
import type { AppName } from '../scripts/local-stack.js';
import { PRODUCTION_LEASES, TestStack, type Instance } from '../test/support/stack.js';
import { waitFor } from '../test/support/wait.js';
import { TestClient } from '../test/support/ws-client.js';
import { runLoad } from './latency.js';

/**
 * `npm run bench:replicas`: what coordination costs. The whole pipeline
 * (agent publish on NATS → ingest → profile-sync → filter-router →
 * websocket-gateway → client, and → webhook-dispatcher → receiver), on the
 * local nats-server, first with one replica of each data-path app, then
 * with three of each (ingest, profile-sync, filter-router, the gateway and
 * the dispatcher; partitions shared out among them), in one run on one
 * machine. The simulator's events (its 4 agents and 12 cameras); a
 * websocket client on the first gateway and `REPLICAS_WEBHOOKS` webhook
 * endpoints (6) on one loopback receiver, every endpoint taking every event;
 * with three dispatchers, each holds at least one of them. An event counts
 * once the client and every endpoint have it. Prints sustained events/s of
 * each and their ratio (goal ≥ 0.9); nothing is asserted. `REPLICAS_EVENTS`
 * sizes each run, `REPLICAS_RUNS` repeats the pair.
 */
const EVENTS = Number(process.env.REPLICAS_EVENTS ?? 20_000);
const RUNS = Number(process.env.REPLICAS_RUNS ?? 1);
const WEBHOOKS = Number(process.env.REPLICAS_WEBHOOKS ?? 6);
const SCALED = ['ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'] as const;
const PARTITIONED = ['ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'] as const;

/** A process's CPU time (user and system), in seconds, from /proc. */
const cpuOf = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
/** The local nats-server's pid (the one on 4222). */
const natsPid = (): number | null => {
  try {
    return Number(execFileSync('pgrep', ['-f', '-o', 'nats-server.*4222'], { encoding: 'utf8' }).trim().split('\n')[0]) || null;
  } catch {
    return null;
  }
};

const idOf = (data: Buffer): string => (JSON.parse(data.toString('utf8')) as { event: { id: string } }).event.id;

/** A webhook receiver on loopback for every endpoint (each at a path of its own); hands on (path, webhook-id) of each request. */
async function startReceiver(onRequest: (path: string, id: string) => void): Promise<{ url: string; close: () => void }> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      onRequest(request.url ?? '', String(request.headers['webhook-id']));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => server.close() };
}

async function measure(replicas: number): Promise<number> {
  const stack = await TestStack.start({
    apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'],
    env: { LOG_FORMAT: 'json', WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', ...PRODUCTION_LEASES },
  });
  // Each event counts once the websocket client and every webhook endpoint have it.
  const sinks = new Map<string, Set<string>>();
  let arrived: (id: string) => void = () => undefined;
  /** The websocket client and the webhook endpoints kept (set once they are made). */
  let sinksPerEvent = WEBHOOKS + 1;
  const reached = (id: string, sink: string) => {
    const seen = sinks.get(id) ?? new Set<string>();
    sinks.set(id, seen.add(sink));
    if (seen.size === sinksPerEvent) {
      sinks.delete(id);
      arrived(id);
    }
  };
  const receiver = await startReceiver((path, id) => reached(id, path));
  try {
    for (const app of SCALED) for (let replica = 1; replica < replicas; replica += 1) await stack.startReplica(app, { readyTimeoutMs: 120_000 });
    /** An app's instances in this run (those not started are left out where it matters: not running). */
    const instancesOf = (app: AppName): Instance[] => [app, ...Array.from({ length: replicas - 1 }, (_, index): Instance => `${app}#${index + 2}`)];
    const held = async (instance: Instance, app: string): Promise<number[]> => (await stack.readiness(instance)).consumers[app]?.partitions ?? [];
    // Every replica holds its share before the load starts.
    for (const app of PARTITIONED) {
      await waitFor(
        async () => {
          const shares = await Promise.all(instancesOf(app).map((instance) => held(instance, app)));
          return shares.every((share) => share.length > 0) && shares.flat().length === DEFAULT_PARTITIONS;
        },
        { timeoutMs: 60_000, what: `the ${app} replicas to share the partitions` },
      );
    }
    // The endpoints: as many as asked, and with several dispatchers at least one in each one's partitions (extras are deleted).
    const shares = await Promise.all(instancesOf('webhook-dispatcher').map((instance) => held(instance, 'webhook-dispatcher')));
    const endpoints: string[] = [];
    const covered = (ids: string[]) => shares.every((share) => ids.some((id) => share.includes(partitionOf(idKey(id), DEFAULT_PARTITIONS))));
    while (endpoints.length < WEBHOOKS || !covered(endpoints)) {
      if (endpoints.length >= 64) throw new Error(`64 webhook endpoints made, and still a dispatcher replica holds none`);
      endpoints.push(await stack.createWebhookEndpoint(`${receiver.url}/hook/${endpoints.length}`, `bench ${endpoints.length}`));
    }
    const kept = [...new Set(shares.map((share) => endpoints.find((id) => share.includes(partitionOf(idKey(id), DEFAULT_PARTITIONS)))!))];
    for (const id of endpoints) if (kept.length < WEBHOOKS && !kept.includes(id)) kept.push(id);
    sinksPerEvent = kept.length + 1;
    for (const id of endpoints.filter((id) => !kept.includes(id))) await stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id });
    const endpoint = await stack.createWebsocketEndpoint('bench');
    const websocket = await TestClient.connect(stack.websocketUrl(endpoint));
    await stack.waitForConfig();
    const nats: NatsClient = await stack.natsClient();
    websocket.socket.on('message', (data: Buffer) => reached(idOf(data), 'websocket'));
    const publish = (event: { id: string; agentId: string; data: Uint8Array }) => nats.jetstream.publish(nats.topology.agentEvents(event.agentId), event.data, { msgID: event.id });
    await runLoad(simulatedEvents(2_000), publish, (callback) => (arrived = callback), null);
    // CPU seconds of each app (its replicas together) and of nats-server over the measured run, per 1,000 events.
    const instances = (['ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'api', 'webhook-dispatcher'] as const)
      .flatMap((app) => instancesOf(app))
      .filter((instance) => stack.isRunning(instance));
    const pids = new Map<string, number>(instances.map((instance) => [instance, stack.pid(instance)]));
    const server = natsPid();
    if (server) pids.set('nats-server', server);
    const before = new Map([...pids].map(([name, pid]) => [name, cpuOf(pid)]));
    const figures = await runLoad(simulatedEvents(EVENTS), publish, (callback) => (arrived = callback), null);
    const perApp = new Map<string, number>();
    for (const [name, pid] of pids) {
      const app = name.split('#')[0]!;
      perApp.set(app, (perApp.get(app) ?? 0) + ((cpuOf(pid) - before.get(name)!) * 1_000) / EVENTS);
    }
    console.log(`  ${replicas} of each: ${figures.eventsPerSecond.toFixed(0)} events/s; CPU-s per 1,000 events: ${[...perApp].map(([app, cpu]) => `${app} ${cpu.toFixed(2)}`).join(', ')}`);
    websocket.close();
    return figures.eventsPerSecond;
  } finally {
    receiver.close();
    await stack.stop();
  }
}

for (let run = 1; run <= RUNS; run += 1) {
  if (process.env.REPLICAS_ONLY_THREE === '1') {
    await measure(3);
    continue;
  }
  const one = await measure(1);
  const three = await measure(3);
  console.log(`run ${run}: 1 replica of each ${one.toFixed(0)} events/s | 3 replicas of each ${three.toFixed(0)} events/s | ratio ${(three / one).toFixed(2)} (goal >= 0.9)`);
}
process.exit(0);
