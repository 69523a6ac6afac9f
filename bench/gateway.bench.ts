import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'ws';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { NATS_URL, TestStack } from '../test/support/stack.js';
import { Headers, NatsClient, WebsocketPositions } from '@app/messaging';
import { simulatedEvents } from '@app/simulator';
import { CpuMeter, natsServerPid } from './process-stats.js';

/**
 * The websocket gateway at scale, beside a bare `ws` server in the same run.
 * Clients run in processes of their own (CLIENT_PROCESSES, forked), so the
 * gateway's process holds nothing but the gateway. Prints its figures:
 *
 *   - RSS per idle connection, CONNECTIONS of them (10,000);
 *   - fan-out of one endpoint's events to 1, 100 and 1,000 clients, as
 *     deliveries a second and as a ratio to two baselines: a bare `ws`
 *     broadcaster reading a stream as the gateway does (bare-ws-feed.ts, an
 *     ordered consumer on the endpoint's subject), and the bare server's
 *     broadcast of frames it holds (no stream read); the same broadcast on
 *     Nest's WsAdapter (@nestjs/platform-ws) beside it, memory included,
 *     for the choice between them (docs/architecture.md);
 *   - the catch-up rate of one resuming client (rate caps lifted);
 *   - a reconnect wave: CONNECTIONS clients resuming at once, with the CPU
 *     seconds the gateway and nats-server spent on it.
 *
 * GATEWAY_PARTS picks parts (comma-separated: idle, fanout, resume, wave;
 * all by default), e.g. GATEWAY_PARTS=wave to look at the wave alone;
 * GATEWAY_PROFILE=<dir>, where the gateway writes a V8 CPU profile when it
 * stops (bench/cpuprofile-summary.ts reads it).
 */
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10_000);
const CLIENT_PROCESSES = Number(process.env.CLIENT_PROCESSES ?? 4);
const FANOUT_EVENTS = Number(process.env.FANOUT_EVENTS ?? 1_000);
const FANOUT_RUNS = Number(process.env.FANOUT_RUNS ?? 3);
const RESUME_EVENTS = Number(process.env.RESUME_EVENTS ?? 20_000);
const WAVE_HISTORY = 10;
const PARTS = new Set((process.env.GATEWAY_PARTS ?? 'idle,fanout,resume,wave').split(',').map((part) => part.trim()));

type Reply = Record<string, any>;

/** A forked process (clients, or the bare server) answering one command at a time. */
class Child {
  private waiting: ((reply: Reply) => void) | null = null;
  private constructor(private readonly process: ChildProcess) {
    process.on('message', (reply: Reply) => {
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.(reply);
    });
  }

  static async fork(script: string, args: string[] = []): Promise<{ child: Child; hello: Reply }> {
    const child = new Child(fork(fileURLToPath(new URL(script, import.meta.url)), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const hello = await child.next();
    return { child, hello };
  }

  private next(): Promise<Reply> {
    return new Promise((resolve) => (this.waiting = resolve));
  }

  ask(command: Reply): Promise<Reply> {
    const reply = this.next();
    this.process.send(command);
    return reply;
  }

  kill(): void {
    this.process.kill();
  }
}

class Clients {
  private constructor(private readonly children: Child[]) {}

  static async start(count: number): Promise<Clients> {
    return new Clients(await Promise.all(Array.from({ length: count }, async () => (await Child.fork('./ws-load-client.js')).child)));
  }

  /** Opens `count` connections spread over the processes, all at once; the time until every one is open. */
  async open(url: string, count: number): Promise<{ opened: number; ms: number }> {
    const started = performance.now();
    const shares = this.children.map((_, index) => Math.floor(count / this.children.length) + (index < count % this.children.length ? 1 : 0));
    const replies = await Promise.all(this.children.map((child, index) => (shares[index]! > 0 ? child.ask({ kind: 'open', url, count: shares[index] }) : Promise.resolve({ opened: 0 }))));
    return { opened: replies.reduce((sum, reply) => sum + (reply.opened as number), 0), ms: performance.now() - started };
  }

  async counts(): Promise<{ min: number; total: number }> {
    const replies = await Promise.all(this.children.map((child) => child.ask({ kind: 'counts' })));
    const busy = replies.filter((reply) => reply.clients > 0);
    return { min: busy.length ? Math.min(...busy.map((reply) => reply.min as number)) : 0, total: replies.reduce((sum, reply) => sum + (reply.total as number), 0) };
  }

  /** Why connections failed or closed since they were opened, by reason, over all processes. */
  async failures(): Promise<Record<string, number>> {
    const all: Record<string, number> = {};
    for (const reply of await Promise.all(this.children.map((child) => child.ask({ kind: 'failures' })))) {
      for (const [reason, count] of Object.entries(reply.failures as Record<string, number>)) all[reason] = (all[reason] ?? 0) + count;
    }
    return all;
  }

  /** Resolves once every client has `count` frames; the time it took from `since`. */
  async allHave(count: number, since: number, timeoutMs = 300_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if ((await this.counts()).min >= count) return performance.now() - since;
      if (Date.now() > deadline) throw new Error(`clients did not get ${count} frames in ${timeoutMs} ms; failed or closed: ${JSON.stringify(await this.failures())}`);
      await sleep(20);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map((child) => child.ask({ kind: 'close' })));
  }

  stop(): void {
    this.children.forEach((child) => child.kill());
  }
}

const rssOfMetrics = async (port: number): Promise<number> => {
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? 0);
};
/** Waits until the stream has a consumer filtered to `subject` (the stream-fed baseline's, opened on a first client). */
async function waitForConsumer(nats: NatsClient, stream: string, subject: string): Promise<void> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
    for await (const consumer of nats.manager.consumers.list(stream)) if (consumer.config.filter_subject === subject) return;
  }
  throw new Error(`no consumer of ${subject} after 10 s`);
}

const kib = (bytes: number) => `${(bytes / 1_024).toFixed(1)} KiB`;
const spread = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

async function main(): Promise<void> {
  const stack = await TestStack.start({
    apps: ['api', 'websocket-gateway'],
    appEnv: {
      'websocket-gateway': {
        ...(process.env.GATEWAY_PROFILE ? { CPU_PROFILE_DIR: process.env.GATEWAY_PROFILE } : {}),
        WS_RESUME_RATE: '10000000', WS_RESUME_TOTAL_RATE: '10000000', WS_PING_INTERVAL: '10m', WS_MAX_CONNECTIONS_PER_ADDRESS: '0', WS_MAX_RESUMES: '100000',
      },
    },
  });
  const clients = await Clients.start(CLIENT_PROCESSES);
  // Two baselines doing the gateway's broadcast alone: a bare ws server, and the same on Nest's WsAdapter.
  const baselines = await Promise.all(
    [
      { name: 'bare ws', script: './bare-ws-server.js' },
      { name: 'Nest WsAdapter', script: './nest-ws-server.js' },
    ].map(async ({ name, script }) => {
      const { child, hello } = await Child.fork(script);
      return { name, child, url: `ws://127.0.0.1:${hello.port}/` };
    }),
  );
  const gatewayHealth = stack.ports.get('websocket-gateway')!.health;
  try {
    const nats = await stack.natsClient();
    /** Stores `count` deliveries for the endpoint as the router does; with `resumable`, their positions too (a client can resume after them). */
    const deliver = async (endpointId: string, count: number, resumable = false): Promise<string[]> => {
      const events = simulatedEvents(count);
      await Promise.all(
        events.map(async (event) => {
          const headers = natsHeaders();
          headers.set(Headers.eventId, event.id);
          const ack = await nats.jetstream.publish(nats.topology.websocketDeliveries(endpointId), event.data, { headers });
          if (resumable) await WebsocketPositions.record(nats, event.id, [[endpointId, ack]]);
        }),
      );
      return events.map((event) => event.id);
    };
    // The stream-fed baseline reads a stream of its own, one subject per endpoint as the gateway's.
    const fanStream = `${nats.topology.prefix.toUpperCase()}_FANOUT_BASELINE`;
    const fanSubject = (endpoint: string) => `${nats.topology.prefix}.fanout.${endpoint}`;
    await nats.manager.streams.add({ name: fanStream, subjects: [fanSubject('>')], retention: RetentionPolicy.Limits, storage: StorageType.File });
    const streamFed = await Child.fork('./bare-ws-feed.js', [NATS_URL, fanStream, fanSubject('>'), 'per-endpoint']);
    console.log(`websocket gateway benchmark: ${CONNECTIONS} connections over ${CLIENT_PROCESSES} client processes`);

    // Memory per idle connection.
    if (PARTS.has('idle')) {
      const idle = await stack.createWebsocketEndpoint('idle');
      await stack.waitForConfig();
      const gatewayBefore = await rssOfMetrics(gatewayHealth);
      const gatewayOpen = await clients.open(stack.websocketUrl(idle), CONNECTIONS);
      await sleep(2_000);
      const gatewayAfter = await rssOfMetrics(gatewayHealth);
      await clients.close();
      const baselineMemory: string[] = [];
      for (const baseline of baselines) {
        const before = (await baseline.child.ask({ kind: 'rss' })).rss as number;
        const opened = await clients.open(baseline.url, CONNECTIONS);
        await sleep(2_000);
        const after = (await baseline.child.ask({ kind: 'rss' })).rss as number;
        await clients.close();
        baselineMemory.push(`${baseline.name} ${opened.opened} opened, RSS ${kib((after - before) / CONNECTIONS)} per connection`);
      }
      console.log(
        `idle connections: gateway ${gatewayOpen.opened} opened in ${(gatewayOpen.ms / 1_000).toFixed(1)} s, RSS ${kib((gatewayAfter - gatewayBefore) / CONNECTIONS)} per connection` +
          ` (${(gatewayBefore / 1_048_576).toFixed(0)} → ${(gatewayAfter / 1_048_576).toFixed(0)} MiB); ${baselineMemory.join('; ')}`,
      );
    }

    // Fan-out of one endpoint's events.
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    for (const fan of PARTS.has('fanout') ? [1, 100, 1_000] : []) {
      const gatewayRates: number[] = [];
      const streamFedRates: number[] = [];
      const baselineRates = baselines.map(() => [] as number[]);
      for (let run = 0; run < FANOUT_RUNS; run += 1) {
        const endpoint = await stack.createWebsocketEndpoint(`fan-${fan}-${run}`);
        await stack.waitForConfig();
        await clients.open(stack.websocketUrl(endpoint), fan);
        const started = performance.now();
        await deliver(endpoint, FANOUT_EVENTS);
        gatewayRates.push((FANOUT_EVENTS * fan) / ((await clients.allHave(FANOUT_EVENTS, started)) / 1_000));
        await clients.close();

        // The stream-fed baseline opens its endpoint's consumer on the first client: stored after that, read whole.
        await clients.open(`ws://127.0.0.1:${streamFed.hello.port}/?endpoint=${endpoint}`, fan);
        await waitForConsumer(nats, fanStream, fanSubject(endpoint));
        const frames = simulatedEvents(FANOUT_EVENTS);
        const fed = performance.now();
        await Promise.all(frames.map((event) => nats.jetstream.publish(fanSubject(endpoint), event.data)));
        streamFedRates.push((FANOUT_EVENTS * fan) / ((await clients.allHave(FANOUT_EVENTS, fed)) / 1_000));
        await clients.close();

        for (const [index, baseline] of baselines.entries()) {
          await clients.open(baseline.url, fan);
          const frames = simulatedEvents(FANOUT_EVENTS).map((event) => Buffer.from(event.data).toString('utf8'));
          const sent = performance.now();
          await baseline.child.ask({ kind: 'broadcast', frames });
          baselineRates[index]!.push((FANOUT_EVENTS * fan) / ((await clients.allHave(FANOUT_EVENTS, sent)) / 1_000));
          await clients.close();
        }
      }
      const [bareRates, nestRates] = baselineRates as [number[], number[]];
      console.log(
        `fan-out to ${fan} clients (${FANOUT_EVENTS} events, ${FANOUT_RUNS} runs, median (range) deliveries/s): gateway ${median(gatewayRates).toFixed(0)} (${spread(gatewayRates)}),` +
          ` stream-fed ws ${median(streamFedRates).toFixed(0)} (${spread(streamFedRates)}),` +
          ` bare ws ${median(bareRates).toFixed(0)} (${spread(bareRates)}), Nest WsAdapter ${median(nestRates).toFixed(0)} (${spread(nestRates)});` +
          ` gateway / stream-fed ws ${(median(gatewayRates) / median(streamFedRates)).toFixed(2)} (goal 0.7),` +
          ` gateway / bare ws ${(median(gatewayRates) / median(bareRates)).toFixed(2)}, WsAdapter / bare ws ${(median(nestRates) / median(bareRates)).toFixed(2)}`,
      );
    }

    streamFed.child.kill();
    await nats.manager.streams.delete(fanStream);

    // One client catching up on a long history.
    if (PARTS.has('resume')) {
      const history = await stack.createWebsocketEndpoint('history');
      await stack.waitForConfig();
      const [first] = await deliver(history, 1, true);
      await deliver(history, RESUME_EVENTS);
      const resumed = await new Promise<number>((resolve, reject) => {
        const started = performance.now();
        let received = 0;
        const socket = new WebSocket(`${stack.websocketUrl(history)}&last_event_id=${first}`);
        socket.on('message', () => {
          received += 1;
          if (received === RESUME_EVENTS) {
            resolve(performance.now() - started);
            socket.close();
          }
        });
        socket.once('error', reject);
      });
      console.log(`resume: one client caught up on ${RESUME_EVENTS} events in ${(resumed / 1_000).toFixed(2)} s: ${((RESUME_EVENTS / resumed) * 1_000).toFixed(0)} events/s (rate caps lifted)`);
    }

    // A reconnect wave: every client resumes at once, a little history each.
    if (PARTS.has('wave')) {
      const wave = await stack.createWebsocketEndpoint('wave');
      await stack.waitForConfig();
      const [position] = await deliver(wave, 1, true);
      await deliver(wave, WAVE_HISTORY);
      const natsPid = natsServerPid(Number(new URL(NATS_URL).port || 4222));
      const meter = new CpuMeter(new Map([['gateway', stack.pid('websocket-gateway')], ...(natsPid ? [['nats-server', natsPid] as const] : [])]));
      const started = performance.now();
      const waveOpen = await clients.open(`${stack.websocketUrl(wave)}&last_event_id=${position}`, CONNECTIONS);
      const connected = meter.read();
      const caughtUp = await clients.allHave(WAVE_HISTORY, started);
      const cpu = (reading: Map<string, number>) => [...reading].map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`).join(', ');
      const failed = await clients.failures();
      console.log(
        `reconnect wave: ${waveOpen.opened} of ${CONNECTIONS} clients resumed at once: all connected in ${(waveOpen.ms / 1_000).toFixed(1)} s` +
          ` (CPU ${cpu(connected)}), all caught up (${WAVE_HISTORY} events each) in ${(caughtUp / 1_000).toFixed(1)} s (CPU ${cpu(meter.read())})` +
          (Object.keys(failed).length ? `; failed or closed: ${JSON.stringify(failed)}` : ''),
      );
      await clients.close();
    }
  } finally {
    clients.stop();
    baselines.forEach((baseline) => baseline.child.kill());
    await stack.stop();
  }
}

await main();
