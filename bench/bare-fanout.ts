import { readFileSync } from 'node:fs';
import { bareConsumer } from './bare-consumer.js';

/**
 * The bare chain's fan-out hop (the router's place): consume a stream, read
 * each event's camera from its JSON, publish one delivery per endpoint of
 * that camera (`<prefix>.ws.<endpoint>` or `<prefix>.wh.<endpoint>`, each
 * with a message id), await every publish ack, then ack the input. No
 * validation, no filter language, no framework: the least a router does.
 *
 * With `subject-per-delivery`, each websocket delivery goes on a subject of
 * its own, `<prefix>.ws.<endpoint>.<n>`, as the router stores them.
 *
 * argv: <nats url> <from stream> <from subject> <deliveries prefix> <durable> <camera → endpoints JSON file> [subject-per-delivery]
 */
const [url, fromStream, fromSubject, deliveriesPrefix, durable, routesFile, layout] = process.argv.slice(2) as [string, string, string, string, string, string, string | undefined];
const perDelivery = layout === 'subject-per-delivery';
const WINDOW = 512;
/** camera id → [kind ('ws' | 'wh'), endpoint id][] */
const routes = new Map<string, Array<[string, string]>>(Object.entries(JSON.parse(readFileSync(routesFile, 'utf8')) as Record<string, Array<[string, string]>>));

const { js, messages } = await bareConsumer(url, fromStream, fromSubject, durable, WINDOW);
process.send?.('ready');
const decoder = new TextDecoder();
const inFlight = new Set<Promise<void>>();
for await (const message of messages) {
  const event = JSON.parse(decoder.decode(message.data)) as { camera: { id: string } };
  const targets = routes.get(event.camera.id) ?? [];
  const task: Promise<void> = Promise.all(
    targets.map(([kind, endpoint]) =>
      js.publish(`${deliveriesPrefix}.${kind}.${endpoint}${perDelivery && kind === 'ws' ? `.${message.seq}` : ''}`, message.data, { msgID: `${message.seq}:${endpoint}` }),
    ),
  )
    .then(() => message.ack())
    .finally(() => inFlight.delete(task));
  inFlight.add(task);
  if (inFlight.size >= WINDOW) await Promise.race(inFlight);
}
