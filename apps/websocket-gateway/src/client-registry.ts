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

/** The clients connected to this replica, by endpoint. */
export class ClientRegistry {
  private readonly logger = new Logger(ClientRegistry.name);
  private readonly byEndpoint = new Map<string, Set<WebSocket>>();
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

  get size(): number {
    return this.clientCount;
  }

  /** Sends one event to every client of the endpoint, as a text frame of the event JSON. */
  broadcast(endpointId: string, frame: Uint8Array): void {
    const clients = this.byEndpoint.get(endpointId);
    if (!clients) return;
    const overBudget = this.measureTotal() > this.maxTotalBufferedBytes;
    const fairShare = this.maxTotalBufferedBytes / Math.max(1, this.size);
    for (const socket of clients) {
      if (socket.readyState !== WebSocket.OPEN) continue;
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
    }
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
