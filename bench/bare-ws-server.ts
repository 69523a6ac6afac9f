import { createServer } from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';

/**
 * The baseline of the gateway benchmark (forked with IPC): a bare `ws`
 * server that keeps its clients and, when asked, broadcasts frames to all of
 * them as the gateway does (text frames, backlog unchecked). Reports its RSS.
 */
const server = createServer();
const sockets = new WebSocketServer({ server, perMessageDeflate: false });
const clients = new Set<WebSocket>();
sockets.on('connection', (socket) => {
  clients.add(socket);
  socket.on('close', () => clients.delete(socket));
});

type Command = { kind: 'broadcast'; frames: string[] } | { kind: 'rss' };

process.on('message', (command: Command) => {
  if (command.kind === 'broadcast') {
    for (const frame of command.frames) {
      const data = Buffer.from(frame);
      for (const client of clients) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
    }
    process.send!({ kind: 'broadcast' });
  }
  if (command.kind === 'rss') process.send!({ kind: 'rss', rss: process.memoryUsage().rss, clients: clients.size });
});

server.listen(0, '127.0.0.1', () => process.send!({ kind: 'ready', port: (server.address() as { port: number }).port }));
