import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

/** Where a path prefix goes; the first match wins, the last route should be `/`. */
export interface EdgeRoute {
  prefix: string;
  /** Defaults to 127.0.0.1. */
  host?: string;
  port: number;
}

/**
 * The local stand-in for the Kubernetes Ingress: one origin for every public
 * URL, HTTP and websocket upgrades alike, forwarded to the app that serves it.
 */
export function createEdgeProxy(routes: EdgeRoute[]): Server {
  const target = (url: string | undefined): { host: string; port: number } => {
    const path = url ?? '/';
    const route = routes.find((candidate) => path.startsWith(candidate.prefix)) ?? routes[routes.length - 1]!;
    return { host: route.host ?? '127.0.0.1', port: route.port };
  };

  const server = createServer((request, response) => {
    const upstream = httpRequest(
      { ...target(request.url), method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain', 'retry-after': '1' });
      response.end('upstream app is not reachable\n');
    });
    request.pipe(upstream);
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const { host, port } = target(request.url);
    const upstream = connect(port, host, () => {
      const lines = [`${request.method} ${request.url} HTTP/1.1`];
      for (let i = 0; i < request.rawHeaders.length; i += 2) lines.push(`${request.rawHeaders[i]}: ${request.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    const close = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', close);
    socket.on('error', close);
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });
  return server;
}
