import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { listenOnFreePort } from './ports.js';

export interface ReceivedRequest {
  method: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  /** The status it was answered with; null while (or if never) answered. */
  status: number | null;
}

/** How a receiver answers its n-th request (0-based): a status (and headers), 'hang' (never answers) or 'reset' (drops the connection). */
export type Answer = { status: number; headers?: Record<string, string> } | 'hang' | 'reset';

/** A webhook receiver on 127.0.0.1, as an integrator runs one; it records every request. */
export class Receiver {
  readonly requests: ReceivedRequest[] = [];
  /** Requests received and not answered (nor closed) yet. */
  readonly hanging = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(answer: (index: number) => Answer = () => ({ status: 204 })): Promise<Receiver> {
    let receiver!: Receiver;
    const server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const index = receiver.requests.length;
        receiver.requests.push({
          method: request.method ?? '',
          headers: Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, String(value)])),
          body: Buffer.concat(chunks).toString('utf8'),
          at: performance.now(),
          status: null,
        });
        const reply = answer(index);
        if (reply === 'reset') {
          request.socket.destroy();
          return;
        }
        if (reply === 'hang') {
          receiver.hanging.add(response);
          response.on('close', () => receiver.hanging.delete(response));
          return;
        }
        receiver.requests[index]!.status = reply.status;
        response.writeHead(reply.status, reply.headers).end();
      });
    });
    await listenOnFreePort(server);
    receiver = new Receiver(server, `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`);
    return receiver;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
