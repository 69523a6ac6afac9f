import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DeliverPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { NatsClient } from '@app/messaging';
import { NATS_URL, PRODUCTION_LEASES, TestStack } from '../test/support/stack.js';
import { TestClient } from '../test/support/ws-client.js';
import { simulatedEvents } from '@app/simulator';
import { runLoad, type RunFigures } from './latency.js';

/**
 * End-to-end benchmark: agent publish → websocket client receive, against a
 * bare JetStream chain of as many hops measured in the same run.
 *
 *   pipeline: bench → INGRESS → ingest → EVENTS → profile-sync → ROUTABLE → filter-router → DELIVERIES
 *             → websocket-gateway → ws → bench
 *   baseline: bench → S1 → forwarder → S2 → forwarder → S3 → forwarder → S4 → bench (ordered consumer)
 *
 * Each figure is printed; nothing is asserted. `THROUGHPUT_EVENTS` and
 * `LATENCY_SECONDS` size the runs.
 */
const THROUGHPUT_EVENTS = Number(process.env.THROUGHPUT_EVENTS ?? 20_000);
const LATENCY_RATE = 1_000;
const LATENCY_SECONDS = Number(process.env.LATENCY_SECONDS ?? 10);

interface Target {
  publish(event: { id: string; agentId: string; data: Uint8Array }): Promise<unknown>;
  onArrival(arrived: (id: string) => void): void;
  stop(): Promise<void>;
}

const idOf = (data: Uint8Array | Buffer): string => (JSON.parse(Buffer.from(data).toString('utf8')) as { event: { id: string } }).event.id;

async function bareChain(): Promise<Target> {
  const prefix = `bare${randomBytes(3).toString('hex')}`;
  const client = await NatsClient.connect({ url: NATS_URL, prefix, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 120_000, connectionName: 'bench-bare' });
  const streams = [1, 2, 3, 4].map((hop) => ({ name: `${prefix.toUpperCase()}_S${hop}`, subject: `${prefix}.s${hop}` }));
  for (const stream of streams) {
    await client.manager.streams.add({
      name: stream.name,
      subjects: [stream.subject],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: nanos(3_600_000),
      duplicate_window: nanos(120_000),
    });
  }
  const forwarderPath = fileURLToPath(new URL('./bare-forwarder.js', import.meta.url));
  const forwarders: ChildProcess[] = [];
  for (const hop of [0, 1, 2]) {
    const from = streams[hop]!;
    const to = streams[hop + 1]!;
    const child = fork(forwarderPath, [NATS_URL, from.name, from.subject, to.subject, `fwd${hop}`], { stdio: 'inherit' });
    await new Promise((resolve) => child.once('message', resolve));
    forwarders.push(child);
  }
  const sink = await client.jetstream.consumers.get(streams[3]!.name, { deliver_policy: DeliverPolicy.New });
  const messages = await sink.consume({ max_messages: 1_024 });
  let arrived: (id: string) => void = () => undefined;
  void (async () => {
    for await (const message of messages) arrived(idOf(message.data));
  })();
  return {
    publish: (event) => client.jetstream.publish(streams[0]!.subject, event.data, { msgID: event.id }),
    onArrival: (callback) => (arrived = callback),
    async stop() {
      messages.stop();
      forwarders.forEach((child) => child.kill('SIGKILL'));
      for (const stream of streams) await client.manager.streams.delete(stream.name).catch(() => undefined);
      await client.close();
    },
  };
}

async function pipeline(): Promise<Target> {
  const stack = await TestStack.start({ env: { LOG_FORMAT: 'json', ...PRODUCTION_LEASES } });
  const websocket = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint('bench')));
  await stack.waitForConfig();
  const nats = await stack.natsClient();
  let arrived: (id: string) => void = () => undefined;
  websocket.socket.on('message', (data: Buffer) => arrived(idOf(data)));
  return {
    publish: (event) => nats.jetstream.publish(nats.topology.agentEvents(event.agentId), event.data, { msgID: event.id }),
    onArrival: (callback) => (arrived = callback),
    async stop() {
      websocket.close();
      await stack.stop();
    },
  };
}

async function measure(name: string, start: () => Promise<Target>): Promise<{ throughput: RunFigures; latency: RunFigures }> {
  const target = await start();
  try {
    // A short warm-up so that both sides run with warm JIT and connections.
    await runLoad(simulatedEvents(2_000), target.publish, target.onArrival, null);
    const throughput = await runLoad(simulatedEvents(THROUGHPUT_EVENTS), target.publish, target.onArrival, null);
    const latency = await runLoad(simulatedEvents(LATENCY_RATE * LATENCY_SECONDS), target.publish, target.onArrival, LATENCY_RATE);
    console.log(
      `${name.padEnd(9)} sustained ${throughput.eventsPerSecond.toFixed(0)} events/s` +
        ` | at ${LATENCY_RATE}/s: p50 ${latency.p50Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms`,
    );
    return { throughput, latency };
  } finally {
    await target.stop();
  }
}

const bare = await measure('baseline', bareChain);
const service = await measure('pipeline', pipeline);
console.log(
  `ratio     events/s ${(service.throughput.eventsPerSecond / bare.throughput.eventsPerSecond).toFixed(2)} of baseline (goal >= 0.5)` +
    ` | p99 ${(service.latency.p99Ms / bare.latency.p99Ms).toFixed(2)}x baseline (goal <= 2)`,
);
process.exit(0);
