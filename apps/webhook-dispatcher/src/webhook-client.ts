import { performance } from 'node:perf_hooks';
import { isIP, type BlockList } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
import { guardedLookup, isAllowedAddress } from '@app/webhooks';

export interface WebhookRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** What one attempt came to: an HTTP answer, or no answer at all. */
export type AttemptResult =
  | { kind: 'answered'; status: number; durationMs: number; body: string; retryAfterMs: number | null }
  | { kind: 'no-answer'; error: string; durationMs: number };

/**
 * The HTTP client of the dispatcher: undici with keep-alive pools per origin,
 * a timeout on every attempt, and a DNS lookup that refuses internal
 * addresses (checked and connected to in one step).
 */
export class WebhookClient {
  private readonly agent: Agent;

  constructor(
    private readonly allowedNetworks: BlockList,
    private readonly timeoutMs: number,
    private readonly bodyBytes: number,
  ) {
    this.agent = new Agent({
      connect: { lookup: guardedLookup(allowedNetworks), timeout: timeoutMs },
      keepAliveTimeout: 30_000,
      connections: 64,
      pipelining: 1,
    });
  }

  async send(webhook: WebhookRequest): Promise<AttemptResult> {
    const started = performance.now();
    // A host name is checked by the guarded lookup as it connects; an address literal never goes through a lookup.
    const host = new URL(webhook.url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !isAllowedAddress(host, this.allowedNetworks)) {
      return { kind: 'no-answer', error: `FORBIDDEN_TARGET: ${host} is an internal address`, durationMs: 0 };
    }
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await request(webhook.url, {
        method: webhook.method as 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'event-service-webhooks', ...webhook.headers },
        body: webhook.body,
        dispatcher: this.agent,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const body = await readUpTo(response.body, this.bodyBytes);
      return {
        kind: 'answered',
        status: response.statusCode,
        durationMs: Math.round(performance.now() - started),
        body,
        retryAfterMs: retryAfter(response.headers['retry-after']),
      };
    } catch (error) {
      const reason = signal.aborted ? `timed out after ${this.timeoutMs} ms` : describe(error);
      return { kind: 'no-answer', error: reason, durationMs: Math.round(performance.now() - started) };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/**
 * An answer up to this size is read to its end (and only its start kept), so
 * that the connection is reused; a larger one is cut off there.
 */
const DRAIN_BYTES = 65_536;

/**
 * The start of an answer, as much as the delivery log keeps. Past
 * DRAIN_BYTES the rest is never read (the connection is dropped rather than
 * drained), so an endless or huge answer costs no memory.
 */
async function readUpTo(body: Dispatcher.ResponseData['body'], limit: number): Promise<string> {
  const kept: Buffer[] = [];
  let keptLength = 0;
  let read = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    read += chunk.length;
    if (keptLength < limit) {
      kept.push(chunk);
      keptLength += chunk.length;
    }
    if (read > Math.max(limit, DRAIN_BYTES)) {
      // Ends the request: a body left unread would hold the connection (and keep arriving).
      body.destroy();
      break;
    }
  }
  return Buffer.concat(kept).subarray(0, limit).toString('utf8');
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = (error as { code?: string }).code ?? cause?.code;
  const message = cause?.message ?? (error as Error).message;
  return code ? `${code}: ${message}` : message;
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now. */
function retryAfter(value: string | string[] | undefined): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  const seconds = Number(text);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}
