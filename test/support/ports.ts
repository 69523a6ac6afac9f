import { createServer } from 'node:net';

// Ports already handed out by this process: the kernel may offer a port again as soon as the
// probe closes it, and two apps of one stack given the same port means one of them cannot start.
const handedOut = new Set<number>();

/** A TCP port that was free a moment ago on 127.0.0.1, and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

export { isListening } from '../../scripts/local-stack.js';
