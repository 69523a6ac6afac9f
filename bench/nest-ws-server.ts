import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WsAdapter } from '@nestjs/platform-ws';
import { WebSocketGateway, WebSocketServer, type OnGatewayConnection } from '@nestjs/websockets';
import { WebSocket, type WebSocketServer as WsServer } from 'ws';

/**
 * The second baseline of the gateway benchmark (forked with IPC): the same
 * broadcast as bare-ws-server.ts, on Nest's WsAdapter and a @WebSocketGateway
 * (what DESIGN.md's @nestjs/platform-ws would build the gateway on).
 */
@WebSocketGateway({ path: '/', perMessageDeflate: false })
class BroadcastGateway implements OnGatewayConnection {
  @WebSocketServer()
  server!: WsServer;

  handleConnection(): void {}

  broadcast(frames: string[]): void {
    for (const frame of frames) {
      const data = Buffer.from(frame);
      for (const client of this.server.clients) if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
    }
  }
}

@Module({ providers: [BroadcastGateway] })
class BroadcastModule {}

const app = await NestFactory.create(BroadcastModule, { logger: false });
app.useWebSocketAdapter(new WsAdapter(app));
await app.listen(0, '127.0.0.1');
const gateway = app.get(BroadcastGateway);

type Command = { kind: 'broadcast'; frames: string[] } | { kind: 'rss' };
process.on('message', (command: Command) => {
  if (command.kind === 'broadcast') {
    gateway.broadcast(command.frames);
    process.send!({ kind: 'broadcast' });
  }
  if (command.kind === 'rss') process.send!({ kind: 'rss', rss: process.memoryUsage().rss, clients: gateway.server.clients.size });
});
process.send!({ kind: 'ready', port: (app.getHttpServer().address() as { port: number }).port });
