import { Injectable } from '@nestjs/common';
import { ConfigView, EndpointState, EndpointType, type WebhookView } from '@app/messaging';
import type { AttemptedFrom, DeliveryEvent } from './delivery-transitions.js';
import { DeliveryState } from './delivery-transitions.js';
import { EndpointLanes } from './endpoint-lanes.js';
import { EndpointRates, maxRateOf } from './endpoint-rates.js';

/** Send now, holding a lane; or what holds the delivery back, as the transitions name it. */
export type Decision =
  | { send: true; endpoint: WebhookView; release: () => void }
  | { send: false; event: Extract<DeliveryEvent, { kind: 'unknown-endpoint' | 'disabled' | 'paused' | 'busy' | 'behind' }> };

/**
 * The one decision, for fresh deliveries and claimed ones alike, of whether
 * a delivery is sent now: unknown endpoint, disabled (410 Gone), paused (by
 * hand, or by failures unless this is a probe), busy (every lane taken, or
 * its maxRatePerSecond used up), behind (a fresh delivery whose endpoint's
 * earlier first attempts wait in the ledger: FirstAttemptOrder), or send. A
 * fresh delivery, and a first attempt sent from the ledger in its order, may
 * wait in memory for a lane; a retry takes a free lane or none. A delivery
 * that waited for its lane is decided again once it holds it: a pause made
 * while it waited holds it back.
 */
@Injectable()
export class DeliveryGate {
  constructor(
    private readonly config: ConfigView,
    private readonly lanes: EndpointLanes,
    private readonly rates: EndpointRates,
  ) {}

  async decide(endpointId: string, options: { from: AttemptedFrom; probe?: boolean; inOrder?: boolean; behind?: boolean }): Promise<Decision> {
    const { from, probe = false, inOrder = from === DeliveryState.FRESH, behind = false } = options;
    const endpoint = await this.webhook(endpointId);
    if (!endpoint) return this.unknown();
    const first = admit(endpoint, probe);
    if (first) return { send: false, event: first };
    if (behind) return { send: false, event: { kind: 'behind' } };
    const acquired = inOrder ? await this.lanes.acquire(endpointId) : this.lanes.tryAcquire(endpointId);
    if (!acquired) return { send: false, event: { kind: 'busy', retryInMs: 0 } };
    const release = this.lanes.releaserOf(endpointId);
    // Looked up as at first: an endpoint not in the view yet is asked of the bucket, never taken for deleted.
    const now = await this.webhook(endpointId);
    const again = now ? admit(now, probe) : null;
    if (!now || again) {
      release();
      return now ? { send: false, event: again! } : this.unknown();
    }
    const retryInMs = this.rates.take(endpointId, maxRateOf(now.meta));
    if (retryInMs > 0) {
      release();
      return { send: false, event: { kind: 'busy', retryInMs } };
    }
    return { send: true, endpoint: now, release };
  }

  /** The webhook endpoint: from the view, else asked of the bucket; a websocket endpoint's id names no webhook. */
  private async webhook(endpointId: string): Promise<WebhookView | undefined> {
    const endpoint = this.config.endpoint(endpointId) ?? (await this.config.lookupEndpoint(endpointId));
    return endpoint?.type === EndpointType.WEB_HOOK ? endpoint : undefined;
  }

  /** "Not in my view" is "deleted" only while the view is loaded and watching. */
  private unknown(): Decision {
    return { send: false, event: { kind: 'unknown-endpoint', deleted: this.config.healthy } };
  }
}

/** What holds back a delivery of the endpoint in its state; null when it may go. */
function admit(endpoint: WebhookView, probe: boolean): Extract<DeliveryEvent, { kind: 'disabled' | 'paused' }> | null {
  switch (endpoint.state) {
    case EndpointState.ACTIVE:
      return null;
    case EndpointState.DISABLED_GONE:
      return { kind: 'disabled' };
    case EndpointState.PAUSED_BY_FAILURES:
      return probe ? null : { kind: 'paused' };
    case EndpointState.PAUSED_BY_HAND:
      return { kind: 'paused' };
  }
}
