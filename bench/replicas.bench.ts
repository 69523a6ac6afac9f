import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { DEFAULT_PARTITIONS, NatsClient } from '@app/messaging';
import { simulatedEvents } from '@app/simulator';
import { TestStack } from '../test/support/stack.js';
import { waitFor } from '../test/support/wait.js';
import { TestClient } from '../test/support/ws-client.js';
import { runLoad } from './latency.js';

/**
 * `npm run bench:replicas`: what coordination costs. The whole pipeline
 * (agent publish on NATS → ingest → profile-sync → filter-router →
 * websocket-gateway → client), on the local nats-server, first with one
 * replica of each data-path app, then with three of each (ingest,
 * profile-sync, filter-router and the gateway; partitions shared out among
 * them), in one run on one machine. The simulator's events (its 4 agents
 * and 12 cameras); the client is on the first gateway. Prints sustained
 * events/s of each and their ratio (goal ≥ 0.9); nothing is asserted.
 * `REPLICAS_EVENTS` sizes each run, `REPLICAS_RUNS` repeats the pair.
 */
const EVENTS = Number(process.env.REPLICAS_EVENTS ?? 20_000);
const RUNS = Number(process.env.REPLICAS_RUNS ?? 1);
const SCALED = ['ingest', 'profile-sync', 'filter-router', 'websocket-gateway'] as const;

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

async function measure(replicas: number): Promise<number> {
  const stack = await TestStack.start({ env: { LOG_FORMAT: 'json' } });
  try {
    for (const app of SCALED) for (let replica = 1; replica < replicas; replica += 1) await stack.startReplica(app, { readyTimeoutMs: 120_000 });
    const endpoint = await stack.createWebsocketEndpoint('bench');
    const websocket = await TestClient.connect(stack.websocketUrl(endpoint));
    await stack.waitForConfig();
    // Every replica holds its share before the load starts.
    if (replicas > 1) {
      for (const app of ['ingest', 'profile-sync', 'filter-router'] as const) {
        const instances = [app, ...Array.from({ length: replicas - 1 }, (_, index) => `${app}#${index + 2}` as const)];
        await waitFor(
          async () => {
            const held = await Promise.all(instances.map(async (instance) => ((await stack.readiness(instance)).consumers[app]?.partitions ?? []).length as number));
            return held.every((count) => count > 0) && held.reduce((sum, count) => sum + count, 0) === DEFAULT_PARTITIONS;
          },
          { timeoutMs: 60_000, what: `the ${app} replicas to share the partitions` },
        );
      }
    }
    const nats: NatsClient = await stack.natsClient();
    let arrived: (id: string) => void = () => undefined;
    websocket.socket.on('message', (data: Buffer) => arrived(idOf(data)));
    const publish = (event: { id: string; agentId: string; data: Uint8Array }) => nats.jetstream.publish(nats.topology.agentEvents(event.agentId), event.data, { msgID: event.id });
    await runLoad(simulatedEvents(2_000), publish, (callback) => (arrived = callback), null);
    // CPU seconds of each app (its replicas together) and of nats-server over the measured run, per 1,000 events.
    const instances = ['ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'api', 'webhook-dispatcher'].flatMap((app) =>
      [app, ...Array.from({ length: replicas - 1 }, (_, index) => `${app}#${index + 2}`)].filter((instance) => stack.isRunning(instance as never)),
    );
    const pids = new Map<string, number>(instances.map((instance) => [instance, stack.pid(instance as never)]));
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
