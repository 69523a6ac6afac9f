import { Injectable } from '@nestjs/common';
import { ConfigView, EndpointState, EndpointType, type EndpointView, type WebhookView } from '@app/messaging';
import { EndpointLanes } from './endpoint-lanes.js';
import { EndpointRates, maxRateOf } from './endpoint-rates.js';

/** What becomes of a delivery now. */
export const Verdict = {
  /** Its endpoint is not in the config: deleted if the view is loaded, else not known yet. */
  UNKNOWN: 'UNKNOWN',
  /** The receiver answered 410 Gone: nothing is sent until someone resumes the endpoint. */
  DISABLED: 'DISABLED',
  /** Paused by hand, or by failures (then only probes go). */
  PAUSED: 'PAUSED',
  /** Every lane of the endpoint is taken (and a fresh delivery may not wait for one), or its maxRatePerSecond is used up. */
  BUSY: 'BUSY',
  /** Send it now, holding a lane. */
  SEND: 'SEND',
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export type Decision =
  | { verdict: typeof Verdict.UNKNOWN; deleted: boolean }
  | { verdict: typeof Verdict.DISABLED | typeof Verdict.PAUSED; endpoint: WebhookView }
  /** `retryInMs`: when the endpoint's own rate limit has room again (0: when a lane frees). */
  | { verdict: typeof Verdict.BUSY; endpoint: WebhookView; retryInMs: number }
  | { verdict: typeof Verdict.SEND; endpoint: WebhookView; release: () => void };

/**
 * 'fresh': a delivery from the stream, which may wait in memory for a lane;
 * 'retry': a parked delivery, which takes a free lane or none;
 * 'probe': a parked delivery sent to test an endpoint paused by failures.
 */
export type DeliveryKind = 'fresh' | 'retry' | 'probe';

/**
 * The one decision, for fresh deliveries and parked retries alike, of
 * whether a delivery is sent now. A delivery that waited for its lane is
 * decided again once it holds it: a pause made while it waited holds it back.
 */
@Injectable()
export class DeliveryGate {
  constructor(
    private readonly config: ConfigView,
    private readonly lanes: EndpointLanes,
    private readonly rates: EndpointRates,
  ) {}

  async decide(endpointId: string, kind: DeliveryKind): Promise<Decision> {
    const endpoint = await this.webhook(endpointId);
    if (!endpoint) return this.unknown();
    const verdict = admit(endpoint, kind);
    if (verdict !== Verdict.SEND) return { verdict, endpoint };
    const acquired = kind === 'fresh' ? await this.lanes.acquire(endpointId) : this.lanes.tryAcquire(endpointId);
    if (!acquired) return { verdict: Verdict.BUSY, endpoint, retryInMs: 0 };
    const release = this.lanes.releaserOf(endpointId);
    // Looked up as at first: an endpoint not in the view yet is asked of the bucket, never taken for deleted.
    const now = await this.webhook(endpointId);
    if (!now) {
      release();
      return this.unknown();
    }
    const again = admit(now, kind);
    if (again !== Verdict.SEND) {
      release();
      return { verdict: again, endpoint: now };
    }
    const retryInMs = this.rates.take(endpointId, maxRateOf(now.meta));
    if (retryInMs > 0) {
      release();
      return { verdict: Verdict.BUSY, endpoint: now, retryInMs };
    }
    return { verdict: Verdict.SEND, endpoint: now, release };
  }

  /** The webhook endpoint: from the view, else asked of the bucket; a websocket endpoint's id names no webhook. */
  private async webhook(endpointId: string): Promise<WebhookView | undefined> {
    const endpoint = this.config.endpoint(endpointId) ?? (await this.config.lookupEndpoint(endpointId));
    return endpoint?.type === EndpointType.WEB_HOOK ? (endpoint as WebhookView) : undefined;
  }

  private unknown(): Decision {
    return { verdict: Verdict.UNKNOWN, deleted: this.config.healthy };
  }
}

function admit(endpoint: EndpointView, kind: DeliveryKind): Exclude<Verdict, typeof Verdict.UNKNOWN | typeof Verdict.BUSY> {
  switch (endpoint.state) {
    case EndpointState.ACTIVE:
      return Verdict.SEND;
    case EndpointState.DISABLED_GONE:
      return Verdict.DISABLED;
    case EndpointState.PAUSED_BY_FAILURES:
      return kind === 'probe' ? Verdict.SEND : Verdict.PAUSED;
    case EndpointState.PAUSED_BY_HAND:
      return Verdict.PAUSED;
  }
}
