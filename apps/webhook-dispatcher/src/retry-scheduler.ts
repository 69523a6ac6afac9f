import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PruneSchedule } from '@app/persistence';
import { ConfigView, EndpointState } from '@app/messaging';
import { eventLog } from '@app/runtime';
import { ClaimHorizon } from './claim-horizon.js';
import { DeliveryFlow } from './delivery-flow.js';
import { DeliveryStore, type ParkedDelivery } from './delivery-store.js';
import { DeliveryState } from './delivery-transitions.js';
import { RetryHolds } from './retry-holds.js';
import type { DispatcherConfig } from './dispatcher.config.js';
import { DISPATCHER_CONFIG } from './dispatcher.tokens.js';
import { EndpointLanes } from './endpoint-lanes.js';
import { EndpointRates } from './endpoint-rates.js';
import { FirstAttemptOrder } from './first-attempt-order.js';

const POLL_MS = 100;
const BATCH = 200;
/** First attempts of one endpoint claimed at once, to be sent in their order. */
const FIRST_ATTEMPTS_BATCH = 64;
/** Claims of one endpoint's first attempts one after another in a poll, while each is taken whole. */
const RUNS_PER_POLL = 4;
/** Endpoints whose first attempts are being sent at once (each a few PostgreSQL queries a poll). */
const MAX_RUNS = 8;
/** How long a first attempt that took its lane is passed over by the claims (its outcome reaches the ledger in far less). */
const PASSED_MS = 10_000;
/** How often the ledger is looked at for endpoints with first attempts waiting that this replica should send. */
const LOOK_MS = 1_000;

/**
 * Takes parked deliveries from PostgreSQL when they are due and attempts
 * them again; sends the first attempts waiting in the ledger of the
 * endpoints of this replica's partitions, in their order (FirstAttemptOrder);
 * probes endpoints paused by failures with one delivery every
 * WEBHOOK_PROBE_INTERVAL; prunes the delivery log and failed deliveries past their retention (soon after start, then every ten minutes). While
 * PostgreSQL is away, parked deliveries simply wait: claims fail and are
 * tried again on the next poll.
 */
@Injectable()
export class RetryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetryScheduler.name);
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly pruning = new PruneSchedule('delivery log', () => this.prune());
  private polling = false;
  /** A round of probe claims is under way. */
  private scanningForProbes = false;
  /** Set at shutdown: nothing new is claimed; what is under way ends first (see onApplicationShutdown). */
  private stopping = false;
  private readonly running = new Set<Promise<void>>();
  private failingSince: number | null = null;
  /** Endpoints paused by failures whose probe is under way here (from its claim until its attempt's change is stored). */
  private readonly probing = new Set<string>();
  /** Parked deliveries this replica is attempting (from the claim until the attempt's change is stored). */
  private readonly attempting = new Set<string>();
  /** Endpoints whose first attempts this replica is claiming and sending (one run at a time each). */
  private readonly draining = new Set<string>();
  /** By endpoint: first attempts that took their lane here lately, by id, and when (see passedOf). */
  private readonly passed = new Map<string, Map<string, number>>();
  private lookedAt = 0;

  constructor(
    private readonly store: DeliveryStore,
    private readonly config: ConfigView,
    private readonly lanes: EndpointLanes,
    private readonly rates: EndpointRates,
    private readonly flow: DeliveryFlow,
    private readonly horizon: ClaimHorizon,
    private readonly holds: RetryHolds,
    private readonly firstAttempts: FirstAttemptOrder,
    @Inject(DISPATCHER_CONFIG) private readonly settings: DispatcherConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timers.push(
      setInterval(() => void this.track(this.poll()), POLL_MS),
      setInterval(() => void this.track(this.probe()), this.settings.WEBHOOK_PROBE_INTERVAL),
    );
    this.pruning.start();
  }

  /**
   * Ends what is under way before PostgreSQL and NATS are closed: a poll or a
   * run that claimed deliveries, and every attempt started meanwhile (a run
   * starts them as it goes). One cut short would keep its claim, and an
   * endpoint's first attempts behind it would wait for that claim to expire
   * (twice WEBHOOK_TIMEOUT and more) before another replica sent them.
   */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.timers.forEach((timer) => clearInterval(timer));
    this.pruning.stop();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private get claimMs(): number {
    // A claim outlives the longest attempt, so a crashed replica's claims come back.
    return this.settings.WEBHOOK_TIMEOUT * 2 + 5_000;
  }

  /**
   * Claims one delivery of each paused-by-failures endpoint whose last probe
   * has ended, and attempts it: a probe that hangs (up to WEBHOOK_TIMEOUT,
   * which may be longer than the interval) is never joined by a second one
   * of its endpoint, and holds back no other endpoint's. The claims are made
   * one after another, and a round starts only once the last one's claims
   * are done.
   */
  private async probe(): Promise<void> {
    if (this.scanningForProbes || !this.config.healthy) return;
    this.scanningForProbes = true;
    try {
      for (const endpoint of this.config.allEndpoints()) {
        if (this.stopping) return;
        if (endpoint.state !== EndpointState.PAUSED_BY_FAILURES || this.probing.has(endpoint.id)) continue;
        try {
          const delivery = await this.store.claimOneOf(endpoint.id, this.claimMs, await this.horizon.now(), [...this.attempting]);
          if (!delivery) continue;
          this.probing.add(endpoint.id);
          void this.track(this.attempt(delivery, true).finally(() => this.probing.delete(endpoint.id)));
        } catch (error) {
          this.logger.warn(`cannot probe ${endpoint.id}: ${(error as Error).message}`);
        }
      }
    } finally {
      this.scanningForProbes = false;
    }
  }

  private async prune(): Promise<string | null> {
    const { lines, failed } = await this.store.prune(this.settings.DELIVERY_LOG_RETENTION);
    return lines + failed > 0 ? `pruned ${lines} lines and ${failed} failed deliveries past DELIVERY_LOG_RETENTION` : null;
  }

  private track(task: Promise<void>): Promise<void> {
    const tracked = task.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
    return tracked;
  }

  private async poll(): Promise<void> {
    // Until the view is loaded, every parked delivery would only be deferred.
    if (this.polling || this.stopping || !this.config.healthy) return;
    this.polling = true;
    try {
      // Endpoints whose lanes are all taken here are left out: claiming their deliveries would only put them back.
      // Inactive endpoints (paused by hand, by failures, disabled) need no list: their rows are held, and a claim
      // never reads them (RetryHolds). Not listing them keeps the planner's estimate of the due rows right, so it
      // stops after BATCH rows in due order rather than reading and sorting them all.
      // So are those whose maxRatePerSecond is used up for now: claiming them would only push them back.
      const skip = [...this.lanes.busyEndpoints(), ...this.rates.exhausted()];
      const due = await this.store.claimDue(BATCH, this.claimMs, skip, await this.horizon.now(), [...this.attempting]);
      if (this.failingSince !== null) this.logger.log('parked deliveries are reachable again');
      this.failingSince = null;
      for (const delivery of due) void this.track(this.attempt(delivery, false));
      this.sendFirstAttempts();
    } catch (error) {
      // PostgreSQL (or NATS) away: parked deliveries wait; say so once, not ten times a second.
      if (this.failingSince === null) this.logger.warn(`cannot read parked deliveries; they wait: ${(error as Error).message}`);
      this.failingSince ??= Date.now();
    } finally {
      this.polling = false;
    }
  }

  /** Runs each queued endpoint's first attempts (those busy now wait for a lane to free); looks for more now and then. */
  private sendFirstAttempts(): void {
    if (this.stopping) return;
    if (Date.now() - this.lookedAt >= LOOK_MS) {
      this.lookedAt = Date.now();
      void this.track(
        this.store.endpointsWithFirstAttempts().then(
          (endpointIds) => this.firstAttempts.found(endpointIds),
          () => undefined,
        ),
      );
    }
    // Those with every lane taken, or no token of their maxRatePerSecond, would only be put back.
    const busy = new Set([...this.lanes.busyEndpoints(), ...this.rates.exhausted()]);
    for (const endpointId of this.firstAttempts.queued()) {
      if (this.draining.size >= MAX_RUNS) break;
      // A paused endpoint's are held (a probe tries one of an endpoint paused by failures); a deleted one's are gone.
      const state = this.config.endpoint(endpointId)?.state;
      if (this.draining.has(endpointId) || busy.has(endpointId) || (state !== undefined && state !== EndpointState.ACTIVE)) continue;
      this.draining.add(endpointId);
      void this.track(this.sendInOrder(endpointId).finally(() => this.draining.delete(endpointId)));
    }
  }

  /**
   * Claims the endpoint's first attempts waiting in the ledger and sends them
   * in their order: each takes its lane after the one before it took its own;
   * once one is held back (busy again, paused), the rest are given back for a
   * later run. Those that took their lane are out of the way of the next
   * claim at once (their outcome on its way), so runs follow one another
   * without waiting for the ledger. None waiting: the endpoint's fresh
   * deliveries may go direct again.
   */
  private async sendInOrder(endpointId: string): Promise<void> {
    try {
      for (let run = 0; run < RUNS_PER_POLL; run += 1) {
        const passed = this.passedOf(endpointId);
        const limit = Math.min(FIRST_ATTEMPTS_BATCH, this.rates.available(endpointId));
        const horizon = await this.horizon.now();
        const { claimed, lockedUntil, waiting } = await this.store.claimFirstAttempts(endpointId, limit, this.claimMs, horizon, [...this.attempting], [...passed.keys()]);
        if (!waiting) return await this.firstAttempts.tryLeave(endpointId);
        if (claimed.length === 0) return;
        // A send starts early enough to end (WEBHOOK_TIMEOUT) well before the claim expires, and only while the partition is here.
        const startBy = Date.now() + this.settings.WEBHOOK_TIMEOUT;
        let went = Promise.resolve(true);
        const left: string[] = [];
        for (const delivery of claimed) {
          if (!(await went) || Date.now() > startBy || this.stopping || !this.firstAttempts.holds(endpointId)) {
            left.push(delivery.id);
            continue;
          }
          let decided!: (sent: boolean) => void;
          went = new Promise((resolve) => (decided = resolve));
          const tookLane = (sent: boolean) => {
            if (sent) passed.set(delivery.id, Date.now());
            decided(sent);
          };
          void this.track(this.attempt(delivery, false, tookLane));
        }
        await went;
        await this.store.unclaim(left, lockedUntil!);
        if (left.length > 0 || claimed.length < limit || this.stopping) return;
      }
    } catch (error) {
      this.logger.warn(`cannot send the first attempts of ${endpointId} waiting in the ledger: ${(error as Error).message}`);
    }
  }

  /** The endpoint's first attempts that took their lane here lately (by id, when): the claims pass over them. */
  private passedOf(endpointId: string): Map<string, number> {
    const passed = this.passed.get(endpointId) ?? new Map<string, number>();
    this.passed.set(endpointId, passed);
    // Their outcome has reached the ledger long since (or, still there, they are in the way: never overtaken).
    const since = Date.now() - PASSED_MS;
    for (const [id, at] of passed) if (at < since && !this.attempting.has(id)) passed.delete(id);
    for (const [other, ids] of this.passed) if (ids.size === 0 && other !== endpointId) this.passed.delete(other);
    return passed;
  }

  /**
   * A probe attempts a paused-by-failures endpoint's delivery; a plain retry
   * needs the endpoint active. `decided`: told whether it took its lane (a
   * first attempt sent in its order).
   */
  private async attempt(delivery: ParkedDelivery, probe: boolean, decided?: (sent: boolean) => void): Promise<void> {
    // Until its change is stored, however long NATS takes, this replica does not claim it again.
    this.attempting.add(delivery.id);
    try {
      const order = decided ? { turn: Promise.resolve(), passTurn: () => undefined, decided } : undefined;
      const step = await this.flow.advance({ from: DeliveryState.CLAIMED, probe, ...delivery }, undefined, order);
      if (step.settlesEndpoint) this.holds.settle(delivery.endpointId);
    } catch (error) {
      // Left claimed: it comes back when the claim expires (and its change, if any, was applied).
      this.logger.warn(`retry of ${delivery.eventId} to ${delivery.endpointId} failed: ${(error as Error).message}`, ...eventLog(delivery.eventId));
    } finally {
      // One that failed before it was decided holds the rest of its run back.
      decided?.(false);
      this.attempting.delete(delivery.id);
    }
  }
}
