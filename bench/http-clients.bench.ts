import { createServer, request as httpRequest, Agent as HttpAgent } from 'node:http';
import { performance } from 'node:perf_hooks';
import got from 'got';
import { Agent, request } from 'undici';
import { simulatedEvents } from '@app/simulator';

/**
 * Which HTTP client the dispatcher uses: POSTs of the seed event to a local
 * keep-alive receiver, 64 in flight, through got 14, undici 7 `request()` and
 * `node:http`, each with a keep-alive pool. Prints requests/s per client.
 */
const REQUESTS = Number(process.env.HTTP_REQUESTS ?? 20_000);
const IN_FLIGHT = 64;

const server = createServer((incoming, response) => {
  incoming.resume();
  incoming.on('end', () => response.writeHead(204).end());
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
const body = simulatedEvents(1)[0]!.data;
const headers = { 'content-type': 'application/json' };

const undiciAgent = new Agent({ keepAliveTimeout: 30_000, connections: IN_FLIGHT });
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: IN_FLIGHT });
const clients: Record<string, () => Promise<unknown>> = {
  'undici 7 request()': async () => (await request(url, { method: 'POST', body, headers, dispatcher: undiciAgent })).body.dump(),
  'node:http': () =>
    new Promise<void>((resolve, reject) => {
      const outgoing = httpRequest(url, { method: 'POST', headers, agent: httpAgent }, (response) => {
        response.resume();
        response.on('end', resolve);
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    }),
  'got 14': () => got.post(url, { body: Buffer.from(body), headers, agent: { http: httpAgent }, retry: { limit: 0 } }),
};

async function measure(send: () => Promise<unknown>, count: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        next += 1;
        await send();
      }
    }),
  );
  return count / ((performance.now() - started) / 1_000);
}

for (const send of Object.values(clients)) await measure(send, 2_000); // warm-up
for (const [name, send] of Object.entries(clients)) {
  console.log(`${name.padEnd(20)} ${(await measure(send, REQUESTS)).toFixed(0)} requests/s`);
}
server.closeAllConnections();
server.close();
process.exit(0);
