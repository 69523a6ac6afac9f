import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigKeys, ConfigView, DeliveryOutcome, SECRETS_VIEW, EndpointHealthPublisher, EndpointState, type AttemptLine, type EndpointHealth, type EndpointView, type HealthState, type RetryChange } from '@app/messaging';
import { eventLog, retryWhileTransient } from '@app/runtime';
import { SecretBox, signatureHeaders, type EndpointSecrets } from '@app/webhooks';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DispatcherMetrics } from './dispatcher.metrics.js';
import type { DispatcherConfig } from './dispatcher.config.js';
import { DISPATCHER_CONFIG } from './dispatcher.tokens.js';
import { EndpointLanes } from './endpoint-lanes.js';
import { WebhookClient } from './webhook-client.js';

export type AttemptOutcome = { kind: 'delivered' } | { kind: 'failed' } | { kind: 'retry'; attempt: number; at: Date } | { kind: 'unsigned' };

/** Where the delivery being attempted waits between attempts. */
export type DeliverySource = 'fresh' | 'parked';

const JITTER = 0.1;

/**
 * One attempt to deliver one event to one webhook endpoint: signed per the
 * Standard Webhooks specification (`webhook-id` is the event id, the same on
 * every attempt), sent, judged and recorded: 2xx delivered; 410 disables the
 * endpoint; anything else (another status, a timeout, a refused or reset
 * connection, a DNS failure) is retried on the schedule, honouring
 * `Retry-After` on 429 and 503, until the schedule is spent.
 *
 * Needs no PostgreSQL: the signing material comes sealed through the config
 * bucket, and the outcome is recorded in the attempts stream (DeliveryRecorder),
 * which is projected into PostgreSQL when it can be.
 */
@Injectable()
export class AttemptDelivery {
  private readonly logger = new Logger(AttemptDelivery.name);
  private readonly opened = new Map<string, { sealed: string; secrets: EndpointSecrets }>();
  private readonly consecutiveFailures = new Map<string, number>();
  private readonly latestHealth = new Map<string, EndpointHealth>();
  private readonly longestDelay: number;

  constructor(
    private readonly client: WebhookClient,
    @Inject(SECRETS_VIEW) private readonly secretsView: ConfigView,
    private readonly box: SecretBox,
    private readonly recorder: DeliveryRecorder,
    private readonly healthRecords: EndpointHealthPublisher,
    private readonly lanes: EndpointLanes,
    private readonly metrics: DispatcherMetrics,
    @Inject(DISPATCHER_CONFIG) private readonly settings: DispatcherConfig,
  ) {
    this.longestDelay = Math.max(...settings.WEBHOOK_RETRY_SCHEDULE);
  }

  /**
   * `keepAlive` is called while recording waits for NATS (the caller keeps its message);
   * `answered` once the receiver has answered (or not), before the outcome is recorded: the
   * endpoint's lane is free again then; `acceptedAt`: when ingest accepted the event (epoch
   * milliseconds, null: unknown), for the latency metrics and kept with a parked delivery.
   * 'unsigned': the endpoint's signing material has not reached this replica yet; nothing was sent.
   */
  async execute(
    endpoint: EndpointView,
    eventId: string,
    body: Uint8Array,
    attempt: number,
    source: DeliverySource,
    { keepAlive, answered, acceptedAt = null }: { keepAlive?: () => void; answered?: () => void; acceptedAt?: number | null } = {},
  ): Promise<AttemptOutcome> {
    const signing = this.signing(endpoint.id);
    if (!signing) return { kind: 'unsigned' };
    const attemptedAt = new Date();
    // The signature headers come last: custom headers cannot replace them.
    const headers = { ...signing.customHeaders, ...signatureHeaders(signing.secrets, eventId, Math.floor(attemptedAt.getTime() / 1_000), body) };
    const result = await this.client.send({ url: String(endpoint.meta.url), method: String(endpoint.meta.method ?? 'POST'), headers, body });
    answered?.();
    if (result.kind === 'answered') this.lanes.answered(endpoint.id);
    else this.lanes.unanswered(endpoint.id);
    const status = result.kind === 'answered' ? result.status : null;
    const delivered = status !== null && status >= 200 && status < 300;
    let outcome: AttemptOutcome;
    if (delivered) {
      outcome = { kind: 'delivered' };
    } else if (status === 410 || attempt > this.settings.WEBHOOK_RETRY_SCHEDULE.length) {
      outcome = { kind: 'failed' };
    } else {
      const asked = result.kind === 'answered' && (status === 429 || status === 503) ? result.retryAfterMs : null;
      const scheduled = this.settings.WEBHOOK_RETRY_SCHEDULE[attempt - 1]! * (1 - JITTER + Math.random() * 2 * JITTER);
      // Retry-After moves a retry later than the schedule, never earlier, and never past the schedule's longest delay.
      const delay = asked === null ? scheduled : Math.min(Math.max(asked, scheduled), this.longestDelay);
      outcome = { kind: 'retry', attempt: attempt + 1, at: new Date(Date.now() + delay) };
    }
    this.metrics.attempted(attempt, outcome.kind, status, result.durationMs, acceptedAt);
    this.logger.debug(`attempt ${attempt} to ${endpoint.id}: ${status ?? (result.kind === 'no-answer' ? result.error : 'no answer')}, ${outcome.kind}`, ...eventLog(eventId));
    const log: AttemptLine = {
      attempt,
      attemptedAt: attemptedAt.toISOString(),
      statusCode: status,
      durationMs: result.durationMs,
      error: result.kind === 'no-answer' ? result.error : delivered ? null : `HTTP ${status}`,
      responseBody: result.kind === 'answered' ? result.body : null,
      outcome: outcome.kind === 'delivered' ? DeliveryOutcome.SUCCEEDED : outcome.kind === 'retry' ? DeliveryOutcome.RETRYING : DeliveryOutcome.FAILED,
    };
    const retry: RetryChange =
      outcome.kind === 'delivered'
        ? { kind: source === 'fresh' ? 'none' : 'remove' }
        : outcome.kind === 'retry'
          ? { kind: 'park', attempt: outcome.attempt, at: outcome.at.toISOString() }
          : { kind: 'fail' };
    const endpointHealth = await this.health(endpoint, delivered, status === 410);
    await this.recorder.record(
      {
        endpointId: endpoint.id,
        eventId,
        log,
        retry,
        ...(retry.kind === 'park' || retry.kind === 'fail' ? { body: Buffer.from(body).toString('base64') } : {}),
        ...(retry.kind === 'park' && acceptedAt !== null ? { acceptedAt: new Date(acceptedAt).toISOString() } : {}),
        ...(endpointHealth ? { endpointHealth } : {}),
      },
      keepAlive,
    );
    return outcome;
  }

  /** The current secret (and the previous one during its grace window), and the custom headers; null until published. */
  private signing(endpointId: string): { secrets: string[]; customHeaders: Record<string, string> } | null {
    const sealed = this.secretsView.sealedSecrets(endpointId);
    if (!sealed) return null;
    let cached = this.opened.get(endpointId);
    if (cached?.sealed !== sealed) {
      try {
        cached = { sealed, secrets: this.box.open<EndpointSecrets>(sealed, ConfigKeys.secrets(endpointId)) };
      } catch (error) {
        // Sealed with a key this replica does not hold: the delivery waits rather than going out unsigned.
        this.logger.error(`endpoint ${endpointId}: cannot open its signing secrets (${(error as Error).message}); does SECRET_KEYS list the api's keys?`);
        return null;
      }
      this.opened.set(endpointId, cached);
    }
    const { current, previous, previousExpiresAt, customHeaders } = cached.secrets;
    const previousValid = previous && previousExpiresAt && Date.parse(previousExpiresAt) > Date.now();
    return { secrets: previousValid ? [current, previous] : [current], customHeaders };
  }

  /**
   * Adapts the endpoint's concurrency, and pauses an endpoint that keeps
   * failing: its deliveries then wait in PostgreSQL while the probe tries one
   * now and then; a success of a paused endpoint's probe resumes it; 410 Gone
   * disables it. Returns the new health when it changed.
   */
  private async health(endpoint: EndpointView, delivered: boolean, gone: boolean): Promise<EndpointHealth | null> {
    if (delivered) {
      this.lanes.succeeded(endpoint.id);
      this.consecutiveFailures.delete(endpoint.id);
      if (endpoint.state === EndpointState.PAUSED_BY_FAILURES) return this.changeState(endpoint, EndpointState.ACTIVE, 'a probe succeeded: resumed');
      return null;
    }
    this.lanes.failed(endpoint.id);
    if (gone) return endpoint.state === EndpointState.DISABLED_GONE ? null : this.changeState(endpoint, EndpointState.DISABLED_GONE, 'answered 410 Gone: disabled');
    const failures = (this.consecutiveFailures.get(endpoint.id) ?? 0) + 1;
    this.consecutiveFailures.set(endpoint.id, failures);
    // Attempts that started before the pause was applied fail too: the pause is decided once (per resume generation).
    const latest = this.latestHealth.get(endpoint.id);
    const pausedAlready = latest?.state === EndpointState.PAUSED_BY_FAILURES && latest.resumeGeneration === (endpoint.resumeGeneration ?? 0);
    if (failures >= this.settings.WEBHOOK_PAUSE_AFTER_FAILURES && endpoint.state === EndpointState.ACTIVE && !pausedAlready) {
      return this.changeState(endpoint, EndpointState.PAUSED_BY_FAILURES, `${failures} failed attempts in a row: paused, probing`);
    }
    return null;
  }

  /**
   * The dispatcher's own health record, never the api's endpoint record: the
   * data path gets it at once through the config bucket, PostgreSQL with the
   * attempt's change record. A pause by hand, a new URL or a deletion made
   * meanwhile by the api is never undone by it.
   */
  private async changeState(endpoint: EndpointView, state: HealthState, why: string): Promise<EndpointHealth> {
    const health: EndpointHealth = { state, resumeGeneration: endpoint.resumeGeneration ?? 0, decidedAt: new Date().toISOString() };
    this.latestHealth.set(endpoint.id, health);
    this.logger.warn(`endpoint ${endpoint.id}: ${why}`);
    // Published until it lands (NATS may be away), unless a newer health of the endpoint replaced it.
    void retryWhileTransient(`health of endpoint ${endpoint.id}`, async () => {
      if (this.latestHealth.get(endpoint.id) === health) await this.healthRecords.put(endpoint.id, health);
    }).catch((error: Error) => this.logger.error(`endpoint ${endpoint.id}: cannot publish its health: ${error.message}`));
    return health;
  }
}
