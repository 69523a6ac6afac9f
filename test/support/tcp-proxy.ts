import { connect, createServer, type Server, type Socket } from 'node:net';
import { listenOnFreePort } from './ports.js';

/**
 * A TCP proxy between an app under test and a shared service, so a test can
 * cut the app's connection without stopping the service other tests use.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  /** Bytes the app has sent the service through the proxy, so far. */
  bytesToService = 0;
  /** What the app sent the service, kept only while `record()` is on. */
  private recorded: Buffer[] | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = createServer((client) => {
      if (proxy.cutOff) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        proxy.sockets.add(socket);
        socket.on('close', () => proxy.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => {
        proxy.bytesToService += chunk.length;
        proxy.recorded?.push(chunk);
      });
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await listenOnFreePort(server);
    proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  /** Keeps what the app sends the service from now on, until `stopRecording()` returns it as text. */
  record(): void {
    this.recorded = [];
  }

  stopRecording(): string {
    const text = Buffer.concat(this.recorded ?? []).toString('latin1');
    this.recorded = undefined;
    return text;
  }

  /** Drops every connection and refuses new ones, like a network partition. */
  cut(): void {
    this.cutOff = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cutOff = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
