/**
 * A small client for event-service's websocket endpoints, for browsers and
 * Node.js, without dependencies: it connects, remembers the `event.id` of
 * the last event it received, and reconnects with jittered backoff, resuming
 * after that event (`last_event_id`), so that a dropped connection, a
 * gateway's drain or a restart loses nothing the stream still holds.
 *
 *   const client = new EventServiceClient({
 *     url: 'wss://events.example/event-service/ws?endpoint_id=<id>',
 *     onEvent: (event) => console.log(event.type, event.event.id),
 *   });
 *   client.start();
 *
 * In Node.js 20, pass `WebSocket` from the `ws` package (Node.js 22 has one).
 */

/** The part of a WebSocket (the browser's, or `ws`'s) the client uses. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export type SocketConstructor = new (url: string, protocols?: string | string[]) => SocketLike;

/** An event as the service delivers it (the seed's format); `event.id` is what resuming uses. */
export interface DeliveredEvent {
  type: string;
  event: { id: string; [field: string]: unknown };
  [field: string]: unknown;
}

export interface ClientOptions {
  /** `ws(s)://HOST/event-service/ws?endpoint_id=<id>`. */
  url: string;
  onEvent: (event: DeliveredEvent) => void;
  /** A connection token, when the endpoint requires one: sent as the subprotocol `bearer.<token>`. */
  token?: string;
  /** Resume after this event at the first connection (the last one a previous run received). */
  lastEventId?: string;
  /** The WebSocket class; the global one by default (browsers, Node.js 22). */
  WebSocket?: SocketConstructor;
  /** Backoff between reconnects: the first delay's ceiling, and the largest (full jitter). */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Each connection opened, and each close (with whether the client reconnects). */
  onOpen?: () => void;
  onClose?: (close: { code: number; reason: string; reconnecting: boolean }) => void;
  /**
   * The gateway cannot resume from the last event (it has aged out of the
   * stream): the client goes on from now, and events in between are missed.
   */
  onGap?: (lastEventId: string) => void;
}

/** Closes after which reconnecting cannot help: the URL, the endpoint or the page's origin is wrong. */
const FINAL_CLOSES = new Set([4400, 4401, 4403, 4404, 4409, 4410]);
const CANNOT_RESUME = 4416;
const OPEN = 1;

export class EventServiceClient {
  private socket: SocketLike | null = null;
  private last: string | null;
  private attempts = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;

  constructor(private readonly options: ClientOptions) {
    this.last = options.lastEventId ?? null;
  }

  /** The `event.id` of the last event received: store it to resume a later run from it. */
  get lastEventId(): string | null {
    return this.last;
  }

  get connected(): boolean {
    return this.socket?.readyState === OPEN;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.socket?.close(1000, 'client stopped');
    this.socket = null;
  }

  private connect(): void {
    const Socket = this.options.WebSocket ?? (globalThis as { WebSocket?: SocketConstructor }).WebSocket;
    if (!Socket) throw new Error('no WebSocket class: pass one (in Node.js 20: WebSocket from the ws package)');
    const url = new URL(this.options.url);
    url.searchParams.delete('last_event_id');
    url.searchParams.delete('since');
    if (this.last) url.searchParams.set('last_event_id', this.last);
    const protocols = this.options.token ? ['event-service', `bearer.${this.options.token}`] : ['event-service'];
    const socket = new Socket(url.toString(), protocols);
    this.socket = socket;
    socket.onopen = () => this.options.onOpen?.();
    socket.onmessage = ({ data }) => {
      // Each frame is one event's JSON; anything else is not ours to interpret.
      if (typeof data !== 'string') return;
      let event: DeliveredEvent;
      try {
        event = JSON.parse(data) as DeliveredEvent;
      } catch {
        return;
      }
      this.attempts = 0;
      this.options.onEvent(event);
      // Remembered once handled: a handler that throws sees the event again after a reconnect.
      if (typeof event?.event?.id === 'string') this.last = event.event.id;
    };
    socket.onerror = () => undefined;
    socket.onclose = ({ code, reason }) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const reconnecting = !this.stopped && !FINAL_CLOSES.has(code);
      if (code === CANNOT_RESUME && this.last) {
        this.options.onGap?.(this.last);
        this.last = null;
      }
      this.options.onClose?.({ code, reason, reconnecting });
      if (reconnecting) this.schedule();
      else this.stopped = true;
    };
  }

  /** Full jitter: a random delay up to min(maxDelay, minDelay × 2^attempts). */
  private schedule(): void {
    const min = this.options.minDelayMs ?? 500;
    const max = this.options.maxDelayMs ?? 30_000;
    const ceiling = Math.min(max, min * 2 ** this.attempts);
    this.attempts += 1;
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.stopped) this.connect();
    }, Math.random() * ceiling);
  }
}
