import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { ensureStreams, Headers, NatsClient } from '@app/messaging';
import { NATS_URL, PRODUCTION_LEASES, TestStack } from '../test/support/stack.js';
import { waitFor } from '../test/support/wait.js';
import { simulatedEvents } from '@app/simulator';

/**
 * Webhook dispatch throughput to a local keep-alive receiver: the
 * webhook-dispatcher (signing, isolation, delivery log included) against a
 * bare dispatcher (consume, POST with undici, ack) in the same run, same
 * deliveries (the seed event, 100 endpoints); the bare one at several
 * in-flight windows, its fastest being the baseline. Then
 * the dispatcher again with one of the 100 endpoints black-holed (it never
 * answers): the other 99's throughput against the all-healthy run.
 *
 * Deliveries are published first; the rate counts from the first request the
 * receiver gets to the last, so start-up is not measured.
 */
const ENDPOINTS = 100;
const DELIVERIES = Number(process.env.DISPATCH_DELIVERIES ?? 20_000);
/** The bare dispatcher is measured at each of these in-flight windows; the fastest is the baseline. */
const BARE_WINDOWS = [64, 256, 1_024];

interface Receiver {
  url: string;
  count(prefix?: string): number;
  rate(): number;
  reset(): void;
  close(): void;
}

async function startReceiver(): Promise<Receiver> {
  let times: number[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      times.push(performance.now());
      response.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    count: () => times.length,
    rate: () => (times.length - 1) / ((times[times.length - 1]! - times[0]!) / 1_000),
    reset: () => (times = []),
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function publishDeliveries(nats: NatsClient, endpointIds: string[]): Promise<void> {
  const events = simulatedEvents(DELIVERIES);
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < events.length; i += 1) {
    const endpointId = endpointIds[i % endpointIds.length]!;
    const messageHeaders = natsHeaders();
    messageHeaders.set(Headers.eventId, events[i]!.id);
    messageHeaders.set(Headers.endpointId, endpointId);
    const publish = nats.jetstream
      .publish(nats.topology.webhookDeliveries(endpointId), events[i]!.data, { msgID: `${events[i]!.id}:${endpointId}`, headers: messageHeaders })
      .finally(() => inFlight.delete(publish));
    inFlight.add(publish);
    if (inFlight.size >= 512) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}

async function bare(receiver: Receiver, window: number): Promise<number> {
  const prefix = `bd${randomBytes(3).toString('hex')}`;
  const nats = await NatsClient.connect({ url: NATS_URL, prefix, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 120_000, connectionName: 'bench-bare-dispatch' });
  await ensureStreams(nats);
  const endpointIds = Array.from({ length: ENDPOINTS }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);
  await publishDeliveries(nats, endpointIds);
  receiver.reset();
  const child = fork(fileURLToPath(new URL('./bare-dispatcher.js', import.meta.url)), [NATS_URL, nats.topology.streams.deliveries, nats.topology.allWebhookDeliveries, `${receiver.url}/hook`, String(window)], { stdio: 'inherit' });
  await waitFor(() => receiver.count() >= DELIVERIES, { timeoutMs: 300_000, intervalMs: 50, what: 'the bare dispatcher' });
  child.kill('SIGKILL');
  for (const stream of Object.values(nats.topology.streams)) await nats.manager.streams.delete(stream).catch(() => undefined);
  await nats.close();
  return receiver.rate();
}

/** A host that accepts connections and never answers. */
async function startBlackHole(): Promise<{ url: string; close(): void }> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

async function dispatcher(receiver: Receiver, blackHole: string | null): Promise<number> {
  // DISPATCH_PROFILE=<dir>: the dispatcher writes a V8 CPU profile there each time it stops (bench/cpuprofile-summary.ts reads them).
  const profileDir = process.env.DISPATCH_PROFILE;
  const stack = await TestStack.start({
    apps: ['api', 'webhook-dispatcher'],
    env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', LOG_FORMAT: 'json', ...PRODUCTION_LEASES, ...(profileDir ? { CPU_PROFILE_DIR: profileDir } : {}) },
  });
  try {
    const endpointIds: string[] = [];
    for (let index = 0; index < ENDPOINTS; index += 1) {
      // A black-holed endpoint is another host, as it would be: connection pools are per host.
      const url = blackHole !== null && index === 0 ? `${blackHole}/dead` : `${receiver.url}/hook/${index}`;
      const created = await stack.graphql('mutation($url: String!) { createWebhookEndpoint(name: "bench", url: $url) { id } }', { url });
      endpointIds.push(created.data.createWebhookEndpoint.id);
    }
    await stack.kill('webhook-dispatcher', 'SIGTERM');
    await publishDeliveries(await stack.natsClient(), endpointIds);
    receiver.reset();
    await stack.startApp('webhook-dispatcher');
    const expected = blackHole !== null ? DELIVERIES - DELIVERIES / ENDPOINTS : DELIVERIES;
    await waitFor(() => receiver.count() >= expected, { timeoutMs: 300_000, intervalMs: 50, what: 'the dispatcher' });
    return receiver.rate();
  } finally {
    await stack.stop();
  }
}

const receiver = await startReceiver();
await bare(receiver, 64); // warm-up: the receiver and the client libraries get their JIT before anything is measured
let baseline = 0;
for (const window of BARE_WINDOWS) {
  const rate = await bare(receiver, window);
  console.log(`bare dispatcher, ${String(window).padStart(4)} in flight   ${rate.toFixed(0)} deliveries/s`);
  baseline = Math.max(baseline, rate);
}
const healthy = await dispatcher(receiver, null);
console.log(`webhook-dispatcher               ${healthy.toFixed(0)} deliveries/s   ratio ${(healthy / baseline).toFixed(2)} of the fastest bare (goal >= 0.7)`);
const blackHole = await startBlackHole();
const withDead = await dispatcher(receiver, blackHole.url);
blackHole.close();
console.log(`1 of 100 black-holed             ${withDead.toFixed(0)} deliveries/s to the other 99   ratio ${(withDead / healthy).toFixed(2)} of all-healthy (goal >= 0.9)`);
receiver.close();
process.exit(0);
