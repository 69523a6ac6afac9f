import { WebSocket } from 'ws';

/**
 * A process of websocket clients for the gateway benchmark (forked with IPC):
 * opens, counts and closes connections as the parent asks. Clients answer
 * pings (ws does by itself) and send nothing.
 */
type Command =
  | { kind: 'open'; url: string; count: number }
  | { kind: 'counts' }
  | { kind: 'failures' }
  | { kind: 'close' };

const sockets: WebSocket[] = [];
const counts: number[] = [];
const OPENING_AT_ONCE = 250;
/** Why connections failed to open, and how many closed after opening, by reason: what the parent prints. */
const failures = new Map<string, number>();
const count = (reason: string) => failures.set(reason, (failures.get(reason) ?? 0) + 1);

function openOne(url: string, index: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    counts[index] = 0;
    socket.on('message', () => (counts[index] = (counts[index] ?? 0) + 1));
    socket.once('open', () => {
      sockets[index] = socket;
      socket.once('close', (code, reason) => count(`closed ${code} ${reason.toString()}`));
      resolve(true);
    });
    socket.once('error', (error) => {
      count(`failed: ${error.message}`);
      resolve(false);
    });
  });
}

async function open(url: string, count: number): Promise<{ opened: number; ms: number }> {
  const started = performance.now();
  let opened = 0;
  let next = 0;
  const base = sockets.length;
  const worker = async () => {
    while (next < count) {
      const index = base + next++;
      if (await openOne(url, index)) opened += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, count) }, worker));
  return { opened, ms: performance.now() - started };
}

async function closeAll(): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.terminate();
        }),
    ),
  );
  sockets.length = 0;
  counts.length = 0;
  failures.clear();
}

process.on('message', (command: Command) => {
  void (async () => {
    if (command.kind === 'open') process.send!({ kind: 'opened', ...(await open(command.url, command.count)) });
    if (command.kind === 'failures') process.send!({ kind: 'failures', failures: Object.fromEntries(failures) });
    if (command.kind === 'counts') {
      // Of the connections that opened: one that failed to open has no frames to count.
      const live = counts.filter((_, index) => sockets[index] !== undefined);
      process.send!({ kind: 'counts', total: live.reduce((sum, count) => sum + count, 0), min: live.length ? Math.min(...live) : 0, clients: live.length });
    }
    if (command.kind === 'close') {
      await closeAll();
      process.send!({ kind: 'closed' });
    }
  })();
});
process.send!({ kind: 'ready' });
