import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigPublisher, type EndpointRecord } from '@app/messaging';
import { signatureHeaders } from '@app/webhooks';
import { DeliveryLog } from './delivery-log.js';
import { DeliveryStore, type EndpointSecrets } from './delivery-store.js';
import type { DispatcherConfig } from './dispatcher.config.js';
import { DISPATCHER_CONFIG } from './dispatcher.tokens.js';
import { EndpointLanes } from './endpoint-lanes.js';
import { WebhookClient } from './webhook-client.js';

export type AttemptOutcome = { kind: 'delivered' } | { kind: 'failed' } | { kind: 'retry'; attempt: number; at: Date };

const SECRET_CACHE_MS = 2_000;
const JITTER = 0.1;

/**
 * One attempt to deliver one event to one webhook endpoint: signed per the
 * Standard Webhooks specification (`webhook-id` is the event id, the same on
 * every attempt), sent, logged, and judged: 2xx delivered; 410 disables the
 * endpoint; anything else (another status, a timeout, a refused or reset
 * connection, a DNS failure) is retried on the schedule, honouring
 * `Retry-After` on 429 and 503, until the schedule is spent.
 */
@Injectable()
export class AttemptDelivery {
  private readonly logger = new Logger(AttemptDelivery.name);
  private readonly secrets = new Map<string, { value: EndpointSecrets | null; loadedAt: number }>();
  private readonly consecutiveFailures = new Map<string, number>();

  constructor(
    private readonly client: WebhookClient,
    private readonly store: DeliveryStore,
    private readonly log: DeliveryLog,
    private readonly publisher: ConfigPublisher,
    private readonly lanes: EndpointLanes,
    @Inject(DISPATCHER_CONFIG) private readonly config: DispatcherConfig,
  ) {}

  async execute(endpoint: EndpointRecord, eventId: string, body: Uint8Array, attempt: number): Promise<AttemptOutcome> {
    const { secrets, customHeaders } = await this.signing(endpoint.id);
    const attemptedAt = new Date();
    // The signature headers come last: custom headers cannot replace them.
    const headers = { ...customHeaders, ...signatureHeaders(secrets, eventId, Math.floor(attemptedAt.getTime() / 1_000), body) };
    const result = await this.client.send({
      url: String(endpoint.meta.url),
      method: String(endpoint.meta.method ?? 'POST'),
      headers,
      body,
    });
    const status = result.kind === 'answered' ? result.status : null;
    let outcome: AttemptOutcome;
    const delivered = status !== null && status >= 200 && status < 300;
    await this.health(endpoint, delivered);
    if (delivered) {
      outcome = { kind: 'delivered' };
    } else if (status === 410) {
      outcome = { kind: 'failed' };
      await this.disableGone(endpoint);
    } else if (attempt > this.config.WEBHOOK_RETRY_SCHEDULE.length) {
      outcome = { kind: 'failed' };
    } else {
      const honoured = result.kind === 'answered' && (status === 429 || status === 503) ? result.retryAfterMs : null;
      const scheduled = this.config.WEBHOOK_RETRY_SCHEDULE[attempt - 1]!;
      const delay = honoured ?? scheduled * (1 - JITTER + Math.random() * 2 * JITTER);
      outcome = { kind: 'retry', attempt: attempt + 1, at: new Date(Date.now() + delay) };
    }
    await this.log.record({
      endpointId: endpoint.id,
      eventId,
      attempt,
      attemptedAt,
      statusCode: status,
      durationMs: result.durationMs,
      error: result.kind === 'no-answer' ? result.error : status !== null && (status < 200 || status >= 300) ? `HTTP ${status}` : null,
      responseBody: result.kind === 'answered' ? result.body : null,
      outcome: outcome.kind === 'delivered' ? 'SUCCEEDED' : outcome.kind === 'retry' ? 'RETRYING' : 'FAILED',
    });
    return outcome;
  }

  /** The current secret (and the previous one during its grace window), and the custom headers. */
  private async signing(endpointId: string): Promise<{ secrets: string[]; customHeaders: Record<string, string> }> {
    let cached = this.secrets.get(endpointId);
    if (!cached || Date.now() - cached.loadedAt > SECRET_CACHE_MS) {
      cached = { value: await this.store.secretsOf(endpointId), loadedAt: Date.now() };
      this.secrets.set(endpointId, cached);
    }
    const secrets = cached.value;
    if (!secrets) throw new Error(`endpoint ${endpointId} has no signing secret`);
    const previousValid = secrets.previous && secrets.previousExpiresAt && secrets.previousExpiresAt.getTime() > Date.now();
    return { secrets: previousValid ? [secrets.current, secrets.previous!] : [secrets.current], customHeaders: secrets.customHeaders };
  }

  /**
   * Adapts the endpoint's concurrency, and pauses an endpoint that keeps
   * failing: its deliveries then wait in PostgreSQL while the ProbeLoop tries
   * one now and then. A success of a paused endpoint's probe resumes it.
   */
  private async health(endpoint: EndpointRecord, delivered: boolean): Promise<void> {
    if (delivered) {
      this.lanes.succeeded(endpoint.id);
      this.consecutiveFailures.delete(endpoint.id);
      if (endpoint.state === 'PAUSED_BY_FAILURES') await this.changeState(endpoint, 'ACTIVE', 'a probe succeeded: resumed');
      return;
    }
    this.lanes.failed(endpoint.id);
    const failures = (this.consecutiveFailures.get(endpoint.id) ?? 0) + 1;
    this.consecutiveFailures.set(endpoint.id, failures);
    if (failures >= this.config.WEBHOOK_PAUSE_AFTER_FAILURES && endpoint.state === 'ACTIVE') {
      await this.changeState(endpoint, 'PAUSED_BY_FAILURES', `${failures} failed attempts in a row: paused, probing`);
    }
  }

  private async changeState(endpoint: EndpointRecord, state: string, why: string): Promise<void> {
    await this.store.setState(endpoint.id, state);
    await this.publisher.putEndpoint({ ...endpoint, state });
    this.logger.warn(`endpoint ${endpoint.id}: ${why}`);
  }

  /** 410 Gone: the receiver says the endpoint is no more; stop sending until someone resumes it. */
  private async disableGone(endpoint: EndpointRecord): Promise<void> {
    if (endpoint.state === 'DISABLED_GONE') return;
    await this.changeState(endpoint, 'DISABLED_GONE', 'answered 410 Gone: disabled');
  }
}
