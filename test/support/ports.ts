import { createServer, type Server } from 'node:net';

/**
 * Ports are handed out below the kernel's ephemeral range (32768–60999 here),
 * each Jest worker from a block of its own. A port the kernel hands out
 * (`listen(0)`, an outgoing connection's own end) or another worker's app
 * never lands on one of them between the probe that found it free and the
 * app that binds it, as it could when they came from `listen(0)` too: two
 * suites side by side then sometimes gave one app a port another had just
 * taken (EADDRINUSE). Receivers and proxies bind one of them too
 * (listenOnFreePort), never the kernel's choice: one given the port of
 * another stack's gone receiver would get that stack's deliveries.
 */
const FIRST_PORT = 20_000;
const BLOCK_SIZE = 3_000;
const BLOCKS = 4;

// Ports already handed out by this process: two apps of one stack given the same port means one of them cannot start.
const handedOut = new Set<number>();
const worker = Math.max(1, Number(process.env.JEST_WORKER_ID ?? 1) || 1);
const blockStart = FIRST_PORT + ((worker - 1) % BLOCKS) * BLOCK_SIZE;
let next = Math.floor(Math.random() * BLOCK_SIZE);

/** A TCP port of this worker's block that was free a moment ago on 127.0.0.1, and that this process has not handed out before. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenOnFreePort(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Binds `server` (a test's receiver, proxy) on 127.0.0.1 to a port of this
 * worker's block that this process has not handed out before; returns it.
 * Never the kernel's choice: a port another stack's receiver had a moment
 * ago may still get that stack's deliveries.
 */
export async function listenOnFreePort(server: Server): Promise<number> {
  for (let tried = 0; tried < BLOCK_SIZE; tried += 1) {
    const port = blockStart + (next++ % BLOCK_SIZE);
    if (handedOut.has(port)) continue;
    if (await listens(server, port)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port left in ${blockStart}–${blockStart + BLOCK_SIZE - 1}`);
}

function listens(server: Server, port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const failed = () => resolve(false);
    server.once('error', failed);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', failed);
      resolve(true);
    });
  });
}

export { isListening } from '../../scripts/local-stack.js';
