import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigView, EndpointState, EndpointType, type ConfigChange, type EndpointView } from '@app/messaging';
import { DeliveryStore } from './delivery-store.js';

/** How often the retry store is checked against the config view, for what a missed or failed release left held. */
const RECONCILE_INTERVAL_MS = 60_000;
/** Sooner while it fails: at start PostgreSQL is connected in the background, and may be away. */
const RECONCILE_RETRY_MS = 5_000;

const holdsRows = (endpoint: EndpointView | undefined): boolean => endpoint !== undefined && endpoint.state !== EndpointState.ACTIVE;

/**
 * Keeps the parked deliveries of paused endpoints (by hand or by failures)
 * held in the retry store, so that claims never read them (DeliveryStore),
 * and releases them when the endpoint is active again; those of an endpoint
 * disabled by 410 are kept as failed instead, as its fresh deliveries are.
 *
 * The config view decides. When an endpoint changes between active and not,
 * its rows are held or released with one UPDATE. Per endpoint these run one
 * after the other, and each reads the view's state when it starts: the last
 * UPDATE of a replica is always the view's latest state, so a resume after a
 * pause wins however the two raced. Replicas that apply the same change run
 * the same idempotent UPDATE; a replica whose view is behind may undo
 * another's, and applies the change itself once its view has it.
 *
 * Held by mistake would be the harm (an active endpoint's deliveries left
 * waiting, since claims never read them); unheld by mistake heals itself: a
 * claim takes the delivery when it is due, the DeliveryGate finds its
 * endpoint inactive, the delivery is parked held, and the scheduler asks for
 * the rest of the endpoint's (settle). So anything not known is left unheld, and a
 * reconciliation at start and every minute releases the held deliveries of
 * endpoints the view says are active (after a failed UPDATE, a resume while
 * no dispatcher ran, or a view that was behind).
 */
@Injectable()
export class RetryHolds implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetryHolds.name);
  /** Whether each webhook endpoint's rows are to be held, as the view last said: an UPDATE runs when it flips. */
  private readonly holding = new Map<string, boolean>();
  /** Per endpoint, the end of its latest UPDATE (queued or running). */
  private readonly syncs = new Map<string, Promise<void>>();
  /** Endpoints with an UPDATE queued but not started: another request adds nothing (it will read the view when it starts). */
  private readonly queued = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private failingSince: number | null = null;
  private stopped = false;

  constructor(
    private readonly store: DeliveryStore,
    private readonly config: ConfigView,
  ) {}

  onApplicationBootstrap(): void {
    // The view is loaded before the app starts; what changed before this listener is the reconciliation's.
    for (const endpoint of this.config.allEndpoints()) if (endpoint.type === EndpointType.WEB_HOOK) this.holding.set(endpoint.id, holdsRows(endpoint));
    this.config.onChange((change) => this.changed(change));
    void this.reconcile();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.allSettled([...this.syncs.values()]);
  }

  /** Whether a delivery of the endpoint parked now is written held: only when the view says the endpoint is not active. */
  holds(endpointId: string): boolean {
    return holdsRows(this.config.endpoint(endpointId));
  }

  /**
   * After parked deliveries were committed, held or not as `holds` said: an
   * endpoint whose state changed meanwhile may have been held or released
   * before they were there, so its rows are set again.
   */
  parked(written: Map<string, boolean>): void {
    for (const [endpointId, held] of written) {
      // A delivery parked for an endpoint disabled meanwhile (a resend, say) is kept as failed with the rest.
      if (this.holds(endpointId) !== held || this.config.endpoint(endpointId)?.state === EndpointState.DISABLED_GONE) this.request(endpointId);
    }
  }

  /**
   * A claim found the endpoint not active though its delivery was not held
   * (the endpoint changed state a moment ago, or its hold failed): its other
   * waiting deliveries may not be held (or failed) either, so its rows are
   * set as the view says now.
   */
  settle(endpointId: string): void {
    this.request(endpointId);
  }

  private changed(change: ConfigChange): void {
    if (this.stopped) return;
    if (change.kind === 'endpoint-removed') {
      // Its rows went with it (foreign key, ON DELETE CASCADE).
      this.holding.delete(change.endpointId);
      return;
    }
    if (change.kind !== 'endpoint-upserted' || change.endpoint.type !== EndpointType.WEB_HOOK) return;
    const held = holdsRows(change.endpoint);
    if ((this.holding.get(change.endpoint.id) ?? false) === held) return;
    this.holding.set(change.endpoint.id, held);
    this.request(change.endpoint.id);
  }

  /** Queues an UPDATE of the endpoint's rows after any running one; it reads the view when it starts. */
  private request(endpointId: string): void {
    if (this.stopped || this.queued.has(endpointId)) return;
    this.queued.add(endpointId);
    const previous = this.syncs.get(endpointId) ?? Promise.resolve();
    const sync = previous.then(() => {
      this.queued.delete(endpointId);
      return this.apply(endpointId);
    });
    this.syncs.set(endpointId, sync);
    void sync.finally(() => {
      if (this.syncs.get(endpointId) === sync) this.syncs.delete(endpointId);
    });
  }

  private async apply(endpointId: string): Promise<void> {
    const endpoint = this.config.endpoint(endpointId);
    // Deleted (its rows went with it), or not known here yet: leaving rows as they are is safe either way.
    if (!endpoint) return;
    const held = holdsRows(endpoint);
    try {
      if (endpoint.state === EndpointState.DISABLED_GONE) {
        // Gone: what waited is kept as failed, as fresh deliveries are (resendDelivery sends it again).
        const failed = await this.store.failWaiting(endpointId);
        if (failed > 0) this.logger.log(`endpoint ${endpointId} is ${endpoint.state}: ${failed} parked ${failed === 1 ? 'delivery' : 'deliveries'} kept as failed`);
        return;
      }
      const changed = await this.store.holdEndpoint(endpointId, held);
      if (changed > 0) this.logger.log(`endpoint ${endpointId} is ${endpoint.state}: ${held ? 'held' : 'released'} ${changed} parked ${changed === 1 ? 'delivery' : 'deliveries'}`);
    } catch (error) {
      // Not lost: a release is the next reconciliation's; a hold, the next claim's that takes one of these deliveries.
      this.logger.warn(
        `cannot ${held ? 'hold' : 'release'} the parked deliveries of endpoint ${endpointId} (${(error as Error).message}); ${held ? 'claims will hold them' : 'the reconciliation will release them'}`,
      );
    }
  }

  /** Releases the held deliveries of endpoints the view says are active: one index probe per endpoint with held rows, not a read of the backlog. */
  private async reconcile(): Promise<void> {
    let done = false;
    try {
      // With the view not loaded or not watching, "active" may be stale; before PostgreSQL is connected, nothing to look at.
      if (this.config.healthy && this.store.connected) {
        for (const endpointId of await this.store.endpointsWithHeldDeliveries()) {
          if (this.config.endpoint(endpointId)?.state === EndpointState.ACTIVE) this.request(endpointId);
        }
        done = true;
        if (this.failingSince !== null) this.logger.log('parked deliveries are reconciled with the config view again');
        this.failingSince = null;
      }
    } catch (error) {
      // Said once per outage, not every few seconds.
      if (this.failingSince === null) this.logger.warn(`cannot check which parked deliveries are held (${(error as Error).message}); trying again`);
      this.failingSince ??= Date.now();
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.reconcile(), done ? RECONCILE_INTERVAL_MS : RECONCILE_RETRY_MS);
  }
}
