import { createServer } from 'node:http';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { WebSocketServer, WebSocket } from 'ws';

/**
 * The websocket baseline that reads a stream (forked with IPC): one ordered
 * consumer of the websocket deliveries' subjects, each message sent as a text
 * frame to the clients of its endpoint (the subject's last token), connected
 * as `ws://…/?endpoint=<id>`. No access checks, no resume memory, no backlog
 * limit: what any stream-fed broadcaster must do.
 *
 * With `per-endpoint`, it reads as the gateway does instead: one ordered
 * consumer per endpoint with a client, filtered to that endpoint's subject
 * (what that costs NATS and the client, against one consumer). With
 * `per-delivery`, the same on deliveries stored on a subject of their own
 * (`…ws.<endpoint>.<n>`, bare-fanout's `subject-per-delivery`): each
 * consumer's filter is then `…ws.<endpoint>.>`, as the gateway's. With
 * `shared-per-delivery`, one consumer of those subjects.
 *
 * argv: <nats url> <stream> <subject filter ending in `>`> [per-endpoint | per-delivery | shared-per-delivery]
 */
const [url, stream, subject, mode] = process.argv.slice(2) as [string, string, string, string | undefined];
const perDelivery = mode === 'per-delivery' || mode === 'shared-per-delivery';
const perEndpoint = mode === 'per-endpoint' || mode === 'per-delivery';
/** The endpoint a delivery's subject names: its last token, or the one before with a subject per delivery. */
const endpointOf = (subject: string): string => subject.split('.').at(perDelivery ? -2 : -1)!;

process.once('disconnect', () => process.exit(0));
const server = createServer();
const sockets = new WebSocketServer({ server, perMessageDeflate: false });
const byEndpoint = new Map<string, Set<WebSocket>>();
sockets.on('connection', (socket, request) => {
  const endpoint = new URL(request.url ?? '/', 'http://feed').searchParams.get('endpoint') ?? '';
  let clients = byEndpoint.get(endpoint);
  if (!clients) byEndpoint.set(endpoint, (clients = new Set()));
  clients.add(socket);
  socket.on('close', () => clients.delete(socket));
  if (perEndpoint && clients.size === 1) void feed(subject.replace(/>$/, perDelivery ? `${endpoint}.>` : endpoint));
});

const connection = await connect({ servers: url });
/** Sends each message of `filter` to the clients of its endpoint (the subject's last token). */
async function feed(filter: string): Promise<void> {
  const consumer = await jetstream(connection).consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.New });
  const messages = await consumer.consume({ max_messages: 1_024, expires: 5_000 });
  for await (const message of messages) {
    for (const client of byEndpoint.get(endpointOf(message.subject)) ?? []) if (client.readyState === WebSocket.OPEN) client.send(message.data, { binary: false });
  }
}
if (!perEndpoint) void feed(subject);

server.listen(0, '127.0.0.1', () => process.send!({ kind: 'ready', port: (server.address() as { port: number }).port }));
