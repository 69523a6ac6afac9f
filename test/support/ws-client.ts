import { WebSocket } from 'ws';
import { waitFor } from './wait.js';

/**
 * Called for every frame and for the close, from the socket's creation on:
 * a frame that arrives with the handshake's answer (a resume's first history)
 * is emitted before `connect` resolves, so a listener added after it would miss it.
 */
export interface ClientListener {
  onOpen?: () => void;
  onFrame?: (text: string) => void;
  onClose?: (code: number, reason: string) => void;
}

/** A websocket client as an integrator runs it: collects every frame it receives. */
export class TestClient {
  readonly frames: Array<{ text: string; binary: boolean }> = [];
  closeEvent: { code: number; reason: string } | null = null;

  private constructor(
    readonly socket: WebSocket,
    listener: ClientListener,
  ) {
    if (listener.onOpen) socket.once('open', listener.onOpen);
    socket.on('message', (data: Buffer, binary: boolean) => {
      const text = data.toString('utf8');
      this.frames.push({ text, binary });
      listener.onFrame?.(text);
    });
    socket.on('close', (code, reason) => {
      this.closeEvent = { code, reason: reason.toString() };
      listener.onClose?.(code, reason.toString());
    });
  }

  /**
   * `answersPings: false` makes a dead peer: connected, but it never answers the gateway's pings.
   * `protocols` are offered as a browser offers them; `origin` is sent as a browser's Origin; `headers` as a proxy's.
   */
  static async connect(
    url: string,
    {
      answersPings = true,
      protocols,
      origin,
      headers,
      ...listener
    }: { answersPings?: boolean; protocols?: string[]; origin?: string; headers?: Record<string, string> } & ClientListener = {},
  ): Promise<TestClient> {
    const socket = new WebSocket(url, protocols ?? [], { autoPong: answersPings, ...(origin ? { origin } : {}), ...(headers ? { headers } : {}) });
    const client = new TestClient(socket, listener);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** Connects and expects the gateway to close the connection; returns the close code and reason. */
  static async refused(url: string, options: { protocols?: string[]; origin?: string; headers?: Record<string, string> } = {}): Promise<{ code: number; reason: string }> {
    const client = await TestClient.connect(url, options);
    return waitFor(() => client.closeEvent, { what: 'the gateway to close the connection' });
  }

  get events(): Array<Record<string, any>> {
    return this.frames.map((frame) => JSON.parse(frame.text));
  }

  eventIds(): string[] {
    return this.events.map((event) => event.event.id as string);
  }

  async waitForEvents(count: number, timeoutMs = 15_000): Promise<void> {
    await waitFor(() => this.frames.length >= count, { timeoutMs, what: `${count} events (have ${this.frames.length})` });
  }

  async waitForClose(): Promise<{ code: number; reason: string }> {
    return waitFor(() => this.closeEvent, { what: 'the connection to close' });
  }

  close(): void {
    this.socket.close();
  }
}
