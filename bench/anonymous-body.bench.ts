import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ANONYMOUS_BODY_BYTES, BODY_BYTES } from '../apps/api/src/graphql/body-limits.js';
import { TestStack } from '../test/support/stack.js';

/**
 * What a request body costs the api in CPU, without a token and with one:
 * the api alone (its own process, the shared NATS and PostgreSQL, a prefix
 * and schema of its own), POSTs to the GraphQL endpoint one at a time, each
 * on a connection of its own (`connection: close`: a refused body's
 * connection is closed by the api anyway, so every request pays the same
 * connection).
 *
 * Two bodies whose refusal once cost an anonymous caller's whole body and
 * more: `{"query":"query` + spaces + `x"}` (the probe check's pattern once
 * backtracked over the spaces) and a JSON array of zeros (once parsed whole,
 * up to 100 KB, before the credential was looked at). Declared 1 KB to 100 KB (the limit with a token), each
 * sent whole in one write; without a token also 10 MB declared, and 10 MB
 * of undeclared length (chunked), each streamed in 64 KB writes, as fast as
 * the connection takes them, until the api answers or closes.
 *
 * Per request: the api's CPU time (its threads' time on a CPU, from
 * /proc/<pid>/task/<tid>/schedstat, less what it spends idle over the same
 * wall time) and the bytes it read (/proc/<pid>/io `rchar`: every read of a
 * socket or a file, the request's head included). Each case's requests go
 * in batches, one batch of every case per round, so that the machine's
 * load and the api's garbage collections fall on all cases alike; the
 * figure is the median batch's (an old-generation collection, about one a
 * run, lands whole on one batch of one case), the mean beside it. A run in
 * one order of the cases, then one in the reverse order, to see the noise.
 */
const ROUNDS = 10;
const BATCH = Math.max(1, Math.round(Number(process.env.EDGE_REQUESTS ?? 300) / ROUNDS));
const REQUESTS = BATCH * ROUNDS;
const WARM_UP = 100;
const SIZES = [1_024, 2_048, 8_192, 32_768, BODY_BYTES];
/** Declared by (or streamed without) the bodies larger than any the api reads. */
const LARGE = 10 * 1_048_576;
const PIECE = 65_536;
const ANSWER_MS = 10_000;
const PATH = '/event-service/graphql';

type Kind = 'query+spaces' | 'JSON zeros';
interface Case {
  kind: Kind;
  token: boolean;
  /** The Content-Length; null: none (chunked). */
  declared: number | null;
}
interface Figures {
  statuses: Map<string, number>;
  /** Per request, of each batch. */
  cpuNs: number[];
  sent: number;
  read: number;
}

/** `size` bytes of JSON of a kind. */
function body(kind: Kind, size: number): Buffer {
  const [start, unit, end] = kind === 'query+spaces' ? ['{"query":"query', ' ', 'x"}'] : ['[', '0,', '0]'];
  const middle = size - start.length - end.length;
  return Buffer.from(start + unit.repeat(Math.floor(middle / unit.length)) + ' '.repeat(middle % unit.length) + end);
}

/** A case's request in the writes the client makes: the head and a small body in one; a large body streamed after the head. */
function requestWrites(c: Case, token: string): Buffer[] {
  const head = [`POST ${PATH} HTTP/1.1`, 'host: 127.0.0.1', 'content-type: application/json', 'connection: close', ...(c.token ? [`token: ${token}`] : [])];
  const length = c.declared === null ? 'transfer-encoding: chunked' : `content-length: ${c.declared}`;
  const whole = body(c.kind, c.declared ?? LARGE);
  const pieces = Array.from({ length: Math.ceil(whole.length / PIECE) }, (_, i) => whole.subarray(i * PIECE, (i + 1) * PIECE));
  const writes = c.declared === null ? pieces.map((piece) => Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])) : pieces;
  return c.declared !== null && c.declared <= BODY_BYTES
    ? [Buffer.concat([Buffer.from([...head, length, '', ''].join('\r\n')), whole])]
    : [Buffer.from([...head, length, '', ''].join('\r\n')), ...writes];
}

/**
 * Sends one request on a connection of its own, each write once the last is
 * taken, none after the answer, and waits until the api closes the
 * connection: the answer's status and the bytes the connection took.
 */
function send(port: number, writes: Buffer[]): Promise<{ status: string; sent: number }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let failure = 'no answer';
    let sent = 0;
    const timer = setTimeout(() => socket.destroy(), ANSWER_MS);
    socket.on('data', (chunk: Buffer) => {
      if (answer.length < 12) answer += chunk.toString('latin1', 0, 12);
    });
    // A write that meets the api's close (a reset: it left bytes unread) ends the connection before the answer is read.
    socket.on('error', (error: NodeJS.ErrnoException) => (failure = error.code ?? error.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? failure, sent });
    });
    const next = (index: number): void => {
      if (index === writes.length || answer !== '' || socket.destroyed) return;
      socket.write(writes[index]!, (error) => {
        if (error) return;
        sent += writes[index]!.length;
        // A turn of the event loop first: an answer already in reads before the next write can meet the close.
        setImmediate(() => next(index + 1));
      });
    };
    next(0);
  });
}

/** The process's CPU time so far, in ns: its threads' own (the scheduler's count, where /proc/<pid>/stat has 10 ms ticks). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns;
}

/** utime + stime from /proc/<pid>/stat, in ns (10 ms ticks), to check cpuNs against over the whole run. */
function statCpuNs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000_000;
}

const bytesRead = (pid: number) => Number(/^rchar: (\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);

const size = (bytes: number) => (bytes >= 1_048_576 ? `${+(bytes / 1_048_576).toFixed(1)} MB` : `${+(bytes / 1_024).toFixed(1)} KB`);

const stack = await TestStack.start({ apps: ['api'], env: { LOG_FORMAT: 'json' } });
try {
  const pid = stack.pid('api');
  const port = stack.ports.get('api')!.main;
  const cases: Case[] = [];
  for (const kind of ['query+spaces', 'JSON zeros'] as const) {
    for (const declared of [...SIZES, LARGE, null]) cases.push({ kind, token: false, declared });
    for (const declared of SIZES) cases.push({ kind, token: true, declared });
  }
  const writes = new Map(cases.map((c) => [c, requestWrites(c, stack.token)]));

  for (const c of cases) for (let i = 0; i < WARM_UP; i += 1) await send(port, writes.get(c)!);
  const idleFrom = { cpu: cpuNs(pid), at: performance.now() };
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const idleNsPerMs = (cpuNs(pid) - idleFrom.cpu) / (performance.now() - idleFrom.at);
  console.log(`api idle: ${(idleNsPerMs / 1_000).toFixed(1)} µs of CPU per second of wall time (subtracted below); ${REQUESTS} requests per case, anonymous bodies read up to ${ANONYMOUS_BODY_BYTES} bytes`);

  async function batch(c: Case, figures: Figures): Promise<void> {
    const [cpu, read, started] = [cpuNs(pid), bytesRead(pid), performance.now()];
    for (let i = 0; i < BATCH; i += 1) {
      const { status, sent } = await send(port, writes.get(c)!);
      figures.statuses.set(status, (figures.statuses.get(status) ?? 0) + 1);
      figures.sent += sent;
    }
    const idle = idleNsPerMs * (performance.now() - started);
    figures.cpuNs.push((cpuNs(pid) - cpu - idle) / BATCH);
    figures.read += bytesRead(pid) - read;
  }

  const statFrom = { stat: statCpuNs(pid), sched: cpuNs(pid) };
  for (const [run, order] of [cases, [...cases].reverse()].entries()) {
    const all = new Map<Case, Figures>(cases.map((c) => [c, { statuses: new Map(), cpuNs: [], sent: 0, read: 0 }]));
    for (let round = 0; round < ROUNDS; round += 1) for (const c of order) await batch(c, all.get(c)!);
    console.log(`\nrun ${run + 1} (${run === 0 ? 'in order' : 'reversed'}): the api's CPU per request (median of ${ROUNDS} batches of ${BATCH}, mean), and per byte declared, sent (head included) and read by the api`);
    for (const c of cases) {
      const figures = all.get(c)!;
      const sorted = [...figures.cpuNs].sort((a, b) => a - b);
      const median = (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
      const mean = sorted.reduce((sum, ns) => sum + ns, 0) / sorted.length;
      const [sent, read] = [figures.sent / REQUESTS, figures.read / REQUESTS];
      const perByte = (bytes: number) => (median / bytes).toFixed(1);
      console.log(
        `${(c.token ? 'token' : 'anonymous').padEnd(9)} ${c.kind.padEnd(12)} ${(c.declared === null ? 'chunked' : size(c.declared)).padStart(8)}` +
          `  sent ${size(sent).padStart(8)}  read ${size(read).padStart(8)}` +
          `  ${[...figures.statuses].sort((a, b) => b[1] - a[1]).map(([status, count]) => `${status} ×${count}`).join(', ').padEnd(9)}` +
          `  ${(median / 1_000).toFixed(0).padStart(5)} µs/request (mean ${(mean / 1_000).toFixed(0).padStart(4)})` +
          `  ns/byte: declared ${c.declared === null ? '–' : perByte(c.declared)}, sent ${perByte(sent)}, read ${perByte(read)}`,
      );
    }
  }
  const [stat, sched] = [statCpuNs(pid) - statFrom.stat, cpuNs(pid) - statFrom.sched];
  console.log(`\nthe api's CPU over both runs: ${(sched / 1e6).toFixed(0)} ms by its threads' schedstat, ${(stat / 1e6).toFixed(0)} ms by /proc/${pid}/stat's ticks`);
} finally {
  await stack.stop();
}
process.exit(0);
