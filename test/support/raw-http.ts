import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { waitFor } from './wait.js';

/** An HTTP answer, its body read whole. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * The status `send` gives when the server closed the connection while the
 * body was still being written, before an answer could be read: what a
 * server that refuses a body unread (and closes rather than drain it) may
 * leave a client with.
 */
export const CLOSED_WHILE_SENDING = 0;

/** One HTTP request as given (a raw path, header values sent as Latin-1), its whole answer read. */
export function send(url: string, { method = 'GET', path, headers = {}, body }: { method?: string; path?: string; headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: target.hostname, port: target.port, method, path: path ?? target.pathname + target.search, headers: { ...headers, ...(body ? { 'content-length': String(body.byteLength) } : {}) } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    request.on('error', (error: Error & { code?: string }) => {
      if (body && (error.code === 'EPIPE' || error.code === 'ECONNRESET')) resolve({ status: CLOSED_WHILE_SENDING, headers: {}, body: Buffer.alloc(0) });
      else reject(error);
    });
    request.end(body);
  });
}

/** A client's websocket frame, masked as RFC 6455 wants it; `declaredLength` may claim more payload than follows. */
export function clientFrame(opcode: number, payload: Uint8Array, declaredLength = payload.length): Buffer {
  const mask = randomBytes(4);
  const long = Buffer.alloc(8);
  long.writeBigUInt64BE(BigInt(declaredLength));
  const length =
    declaredLength < 126
      ? Buffer.from([0x80 | declaredLength])
      : declaredLength < 65_536
        ? Buffer.from([0x80 | 126, declaredLength >> 8, declaredLength & 0xff])
        : Buffer.concat([Buffer.from([0x80 | 127]), long]);
  return Buffer.concat([Buffer.from([0x80 | opcode]), length, mask, Buffer.from(payload.map((byte, index) => byte ^ mask[index % 4]!))]);
}

/** The server's (unmasked) frames in `data`, as far as they are complete. */
export function serverFrames(data: Buffer): Array<{ opcode: number; payload: Buffer }> {
  const frames: Array<{ opcode: number; payload: Buffer }> = [];
  let at = 0;
  while (at + 2 <= data.length) {
    let length = data[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      if (start + 2 > data.length) break;
      length = data.readUInt16BE(start);
      start += 2;
    } else if (length === 127) {
      if (start + 8 > data.length) break;
      length = Number(data.readBigUInt64BE(start));
      start += 8;
    }
    if (start + length > data.length) break;
    frames.push({ opcode: data[at]! & 0x0f, payload: data.subarray(start, start + length) });
    at = start + length;
  }
  return frames;
}

/** A TCP connection written to byte by byte: what it received so far, and whether the other side ended it. */
export class RawConnection {
  received = Buffer.alloc(0);
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.received = Buffer.concat([this.received, chunk])));
    socket.on('close', () => (this.ended = true));
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  /** Resolves once the bytes are handed to the kernel (at once when the connection ended). */
  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.ended) return resolve();
      this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, () => resolve());
    });
  }

  /** The answer's head (status line and headers) once it is in; null when the connection ended without one. */
  async head(timeoutMs = 10_000): Promise<{ status: number; text: string } | null> {
    const found = await waitFor(
      () => {
        const end = this.received.indexOf('\r\n\r\n');
        if (end >= 0) {
          const text = this.received.subarray(0, end).toString('latin1');
          return { head: { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text } };
        }
        return this.ended ? { head: null } : null;
      },
      { timeoutMs, intervalMs: 1, what: 'an answer' },
    );
    return found.head;
  }

  /** The frames received after the answer's head (a websocket's, once upgraded). */
  frames(): Array<{ opcode: number; payload: Buffer }> {
    return serverFrames(this.received.subarray(this.received.indexOf('\r\n\r\n') + 4));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** What a websocket upgrade came to: an HTTP answer instead, an open socket, a close frame, or a connection ended without a word. */
export type UpgradeOutcome = { kind: 'http'; status: number; head: string } | { kind: 'open' } | { kind: 'closed'; code: number; reason: string } | { kind: 'ended' };

/**
 * Sends a websocket upgrade request (a raw request target, any headers) and
 * tells what came of it. Once upgraded, a ping tells an open socket (a
 * pong) from one refused after the upgrade (a close frame).
 */
export async function upgrade(port: number, target: string, headers: ReadonlyArray<[string, string]>): Promise<UpgradeOutcome> {
  const connection = await RawConnection.open(port);
  try {
    const lines = [`GET ${target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', 'Upgrade: websocket', ...headers.map(([name, value]) => `${name}: ${value}`)];
    await connection.write(`${lines.join('\r\n')}\r\n\r\n`);
    const head = await connection.head();
    if (!head) return { kind: 'ended' };
    if (head.status !== 101) return { kind: 'http', status: head.status, head: head.text };
    await connection.write(clientFrame(0x9, Buffer.from('fuzz')));
    return await waitFor<UpgradeOutcome | null>(
      () => {
        for (const frame of connection.frames()) {
          if (frame.opcode === 0xa) return { kind: 'open' };
          if (frame.opcode === 0x8) return { kind: 'closed', code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005, reason: frame.payload.subarray(2).toString('utf8') };
        }
        return connection.ended ? { kind: 'ended' } : null;
      },
      { timeoutMs: 10_000, intervalMs: 1, what: 'a pong or a close frame' },
    );
  } finally {
    connection.close();
  }
}
