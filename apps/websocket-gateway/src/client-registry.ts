import { Logger } from '@nestjs/common';
import { WebSocket } from 'ws';
import { CloseCode } from './close-codes.js';

/** How often the sum of all clients' backlogs is measured (it is a walk over every client). */
const MEASURE_EVERY_MS = 100;
/**
 * A client closed for the budget that has not even read up to its close
 * frame is dropped this long after: its backlog is freed then.
 */
const CLOSE_GRACE_MS = 10_000;

/**
 * Live frames a resuming client may hold while it catches up; past this they
 * are dropped, and the catch-up reads on until it has them from history.
 */
const MAX_HELD_FRAMES = 4_096;

/** What a client still catching up (Resumer) holds of the live frames of its endpoint. */
interface CatchingUp {
  held: Array<{ seq: number; frame: Uint8Array }>;
  heldBytes: number;
  overflowed: boolean;
}

/** The clients connected to this replica, by endpoint. */
export class ClientRegistry {
  private readonly logger = new Logger(ClientRegistry.name);
  private readonly byEndpoint = new Map<string, Set<WebSocket>>();
  private readonly catchingUp = new Map<WebSocket, CatchingUp>();
  /** After a catch-up: the stream sequence up to which the client had its events from history. */
  private readonly sentUpTo = new WeakMap<WebSocket, number>();
  private totalBuffered = 0;
  private measuredAt = 0;
  private clientCount = 0;

  /**
   * `maxBufferedBytes`: one client's backlog limit; `maxTotalBufferedBytes`:
   * the budget of all of them together.
   */
  constructor(
    private readonly maxBufferedBytes: number,
    private readonly maxTotalBufferedBytes: number = Number.POSITIVE_INFINITY,
    /** Told how many live frames went out (the metrics). */
    private readonly framesSent: (count: number) => void = () => undefined,
  ) {}

  add(endpointId: string, socket: WebSocket): void {
    let clients = this.byEndpoint.get(endpointId);
    if (!clients) {
      clients = new Set();
      this.byEndpoint.set(endpointId, clients);
    }
    clients.add(socket);
    this.clientCount += 1;
    socket.once('close', () => this.remove(endpointId, socket));
  }

  /**
   * Adds a client that resumes: until goLive, the live frames of its endpoint
   * are held for it, not sent, while the Resumer sends it history.
   */
  addCatchingUp(endpointId: string, socket: WebSocket): void {
    this.catchingUp.set(socket, { held: [], heldBytes: 0, overflowed: false });
    socket.once('close', () => this.catchingUp.delete(socket));
    this.add(endpointId, socket);
  }

  /**
   * The client has had history up to stream sequence `lastSent`, and history
   * had nothing newer when it was read: the held frames after `lastSent` go
   * out and live frames follow (none twice, none missed). False when live
   * frames were dropped meanwhile (too many held): history must be read on.
   */
  goLive(socket: WebSocket, lastSent: number): boolean {
    const state = this.catchingUp.get(socket);
    if (!state) return true;
    if (state.overflowed) {
      state.overflowed = false;
      state.held = [];
      state.heldBytes = 0;
      return false;
    }
    this.catchingUp.delete(socket);
    this.sentUpTo.set(socket, lastSent);
    let sent = 0;
    for (const { seq, frame } of state.held) {
      if (seq > lastSent && socket.readyState === WebSocket.OPEN) {
        socket.send(frame, { binary: false });
        sent += 1;
      }
    }
    if (sent > 0) this.framesSent(sent);
    const last = state.held.at(-1);
    if (last && last.seq > lastSent) this.sentUpTo.set(socket, last.seq);
    return true;
  }

  /** The clients of one endpoint on this replica. */
  socketsOf(endpointId: string): ReadonlySet<WebSocket> {
    return this.byEndpoint.get(endpointId) ?? new Set();
  }

  /** How many clients one endpoint has on this replica. */
  countOf(endpointId: string): number {
    return this.byEndpoint.get(endpointId)?.size ?? 0;
  }

  get size(): number {
    return this.clientCount;
  }

  /**
   * Sends one event (stream sequence `seq`) to every client of the endpoint,
   * as a text frame of the event JSON; a client catching up holds it instead,
   * and one that had it from history does not get it again. Returns how
   * many clients it was sent to.
   */
  broadcast(endpointId: string, frame: Uint8Array, seq: number): number {
    const clients = this.byEndpoint.get(endpointId);
    if (!clients) return 0;
    let sent = 0;
    const overBudget = this.measureTotal() > this.maxTotalBufferedBytes;
    const fairShare = this.maxTotalBufferedBytes / Math.max(1, this.size);
    for (const socket of clients) {
      if (socket.readyState !== WebSocket.OPEN) continue;
      const catching = this.catchingUp.get(socket);
      if (catching) {
        // Held within half the client's backlog limit, so that sending them at goLive never makes it "too slow".
        if (catching.held.length >= MAX_HELD_FRAMES || catching.heldBytes + frame.byteLength > this.maxBufferedBytes / 2) {
          catching.held = [];
          catching.heldBytes = 0;
          catching.overflowed = true;
        }
        if (!catching.overflowed) {
          catching.held.push({ seq, frame });
          catching.heldBytes += frame.byteLength;
        }
        continue;
      }
      const upTo = this.sentUpTo.get(socket);
      if (upTo !== undefined) {
        if (seq <= upTo) continue;
        this.sentUpTo.delete(socket);
      }
      if (socket.bufferedAmount > this.maxBufferedBytes) {
        // One slow reader must not grow this process's memory without bound.
        this.logger.warn(`closing a client of ${endpointId}: ${socket.bufferedAmount} bytes unsent`);
        socket.close(CloseCode.tooSlow, 'client too slow: unsent backlog over the limit');
        continue;
      }
      if (overBudget && socket.bufferedAmount > fairShare) {
        // Nor many slow readers together: those over their share of the budget go.
        this.logger.warn(`closing a client of ${endpointId}: ${socket.bufferedAmount} bytes unsent while all clients' backlogs are over their budget`);
        // No longer counted (it is closing), so the next measure does not close others for its backlog.
        this.totalBuffered -= socket.bufferedAmount;
        socket.close(CloseCode.tooSlow, 'client too slow: the gateway holds too much unsent data');
        setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
        continue;
      }
      socket.send(frame, { binary: false });
      sent += 1;
    }
    if (sent > 0) this.framesSent(sent);
    return sent;
  }

  /** The sum of all clients' unsent bytes, measured at most every MEASURE_EVERY_MS. */
  private measureTotal(): number {
    const now = Date.now();
    if (now - this.measuredAt < MEASURE_EVERY_MS) return this.totalBuffered;
    this.measuredAt = now;
    let total = 0;
    for (const clients of this.byEndpoint.values()) for (const socket of clients) if (socket.readyState === WebSocket.OPEN) total += socket.bufferedAmount;
    this.totalBuffered = total;
    return total;
  }

  closeEndpoint(endpointId: string, code: number, reason: string): void {
    for (const socket of this.byEndpoint.get(endpointId) ?? []) {
      socket.close(code, reason);
    }
  }

  closeAll(code: number, reason: string): void {
    for (const endpointId of this.byEndpoint.keys()) this.closeEndpoint(endpointId, code, reason);
  }

  private remove(endpointId: string, socket: WebSocket): void {
    const clients = this.byEndpoint.get(endpointId);
    if (clients?.delete(socket)) this.clientCount -= 1;
    if (clients?.size === 0) this.byEndpoint.delete(endpointId);
  }
}
