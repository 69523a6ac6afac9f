import { Agent, request } from 'undici';
import { bareConsumer } from './bare-consumer.js';

/**
 * The baseline dispatcher: consume webhook deliveries, POST each body with
 * the fastest raw client (undici request, keep-alive), ack. No signing, no
 * isolation, no log, no retries.
 *
 * argv: <nats url> <stream> <subject filter> <receiver url> <window>
 */
const [url, stream, subject, receiver, windowText] = process.argv.slice(2) as [string, string, string, string, string];
const WINDOW = Number(windowText);

const { messages } = await bareConsumer(url, stream, subject, 'bare-dispatcher', WINDOW);
const agent = new Agent({ keepAliveTimeout: 30_000, connections: 64 });
process.send?.('ready');
const inFlight = new Set<Promise<void>>();
for await (const message of messages) {
  const task: Promise<void> = request(receiver, { method: 'POST', body: message.data, headers: { 'content-type': 'application/json' }, dispatcher: agent })
    .then((response) => response.body.dump())
    .then(() => message.ack())
    .finally(() => inFlight.delete(task));
  inFlight.add(task);
  if (inFlight.size >= WINDOW) await Promise.race(inFlight);
}
