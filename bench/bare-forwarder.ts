import { bareConsumer } from './bare-consumer.js';

/**
 * The baseline's hop: consume a stream, publish each message unchanged to the
 * next stream with a message id, await the publish ack, then ack the input.
 * No validation, no routing, no framework: only what every hop must do.
 * Same client library, in-flight window and ack pattern as the pipeline's ConsumerRunner.
 *
 * argv: <nats url> <from stream> <from subject> <to subject> <durable>
 */
const [url, fromStream, fromSubject, toSubject, durable] = process.argv.slice(2) as [string, string, string, string, string];
const WINDOW = 512;

const { js, messages } = await bareConsumer(url, fromStream, fromSubject, durable, WINDOW);
process.send?.('ready');
const inFlight = new Set<Promise<void>>();
for await (const message of messages) {
  const task: Promise<void> = js
    .publish(toSubject, message.data, { msgID: `${durable}:${message.seq}` })
    .then(() => message.ack())
    .finally(() => inFlight.delete(task));
  inFlight.add(task);
  if (inFlight.size >= WINDOW) await Promise.race(inFlight);
}
