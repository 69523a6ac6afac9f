import { createServer, type Server } from 'node:http';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Headers, type NatsClient } from '@app/messaging';
import { PRODUCTION_LEASES, TestStack } from '../test/support/stack.js';
import { simulatedEvents } from '@app/simulator';
import { runLoad, type RunFigures } from './latency.js';

/**
 * Isolation of webhook endpoints: 100 endpoints get deliveries at a fixed
 * rate (round robin); in the second run 40 of them are black-holed (their
 * host accepts connections and never answers). The 60 healthy endpoints'
 * delivery rate and latency (publish into the deliveries stream to the
 * receiver's request; each dead endpoint is a host of its own) are compared between the two runs, same process, same
 * machine. Goals: rate >= 0.9 and p99 <= 2x of the all-healthy run.
 */
const ENDPOINTS = 100;
const DEAD = 40;
const RATE = Number(process.env.ISOLATION_RATE ?? 2_000);
const SECONDS = Number(process.env.ISOLATION_SECONDS ?? 20);

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function isDead(index: number, withDead: boolean): boolean {
  return withDead && index % ENDPOINTS < DEAD;
}

async function run(withDead: boolean): Promise<RunFigures> {
  let arrived: (id: string) => void = () => undefined;
  const receiver = createServer((request, response) => {
    const id = request.headers['webhook-id'];
    request.resume();
    request.on('end', () => {
      if (typeof id === 'string') arrived(id);
      response.writeHead(204).end();
    });
  });
  receiver.keepAliveTimeout = 60_000;
  // Each black-holed endpoint is a host of its own, as it would be: connection pools are per origin.
  const blackHoles = Array.from({ length: DEAD }, () => createServer(() => undefined));
  const receiverUrl = await listen(receiver);
  const blackHoleUrls = await Promise.all(blackHoles.map((server) => listen(server)));
  const stack = await TestStack.start({
    apps: ['api', 'webhook-dispatcher'],
    env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', LOG_FORMAT: 'json', STREAM_MAX_BYTES: '2GiB', ...PRODUCTION_LEASES },
  });
  try {
    const endpointIds: string[] = [];
    for (let index = 0; index < ENDPOINTS; index += 1) {
      const url = isDead(index, withDead) ? `${blackHoleUrls[index]!}/dead` : `${receiverUrl}/hook/${index}`;
      const created = await stack.graphql('mutation($url: String!) { createWebhookEndpoint(name: "bench", url: $url) { id } }', { url });
      endpointIds.push(created.data.createWebhookEndpoint.id);
    }
    const nats: NatsClient = await stack.natsClient();
    const events = simulatedEvents(RATE * SECONDS);
    const indexOf = new Map(events.map((event, index) => [event.id, index]));
    return await runLoad(
      events,
      (event) => {
        const index = indexOf.get(event.id)!;
        const endpointId = endpointIds[index % ENDPOINTS]!;
        const messageHeaders = natsHeaders();
        messageHeaders.set(Headers.eventId, event.id);
        messageHeaders.set(Headers.endpointId, endpointId);
        return nats.jetstream.publish(nats.topology.webhookDeliveries(endpointId), event.data, { msgID: `${event.id}:${endpointId}`, headers: messageHeaders });
      },
      (onArrival) => (arrived = onArrival),
      RATE,
      (index) => !isDead(index, withDead),
    );
  } finally {
    await stack.stop();
    receiver.closeAllConnections();
    receiver.close();
    for (const server of blackHoles) {
      server.closeAllConnections();
      server.close();
    }
  }
}

const healthy = await run(false);
console.log(`all ${ENDPOINTS} healthy        ${(healthy.eventsPerSecond * (ENDPOINTS - DEAD) / ENDPOINTS).toFixed(0)} deliveries/s to the ${ENDPOINTS - DEAD} measured   p50 ${healthy.p50Ms.toFixed(1)} ms   p99 ${healthy.p99Ms.toFixed(1)} ms   (${healthy.received} received)`);
const withDead = await run(true);
console.log(`${DEAD} of ${ENDPOINTS} black-holed      ${withDead.eventsPerSecond.toFixed(0)} deliveries/s to the ${ENDPOINTS - DEAD} healthy   p50 ${withDead.p50Ms.toFixed(1)} ms   p99 ${withDead.p99Ms.toFixed(1)} ms   (${withDead.received} received)`);
const healthyRate = (healthy.eventsPerSecond * (ENDPOINTS - DEAD)) / ENDPOINTS;
console.log(`ratio: rate ${(withDead.eventsPerSecond / healthyRate).toFixed(2)} (goal >= 0.9), p99 ${(withDead.p99Ms / healthy.p99Ms).toFixed(2)}x (goal <= 2)`);
process.exit(0);
