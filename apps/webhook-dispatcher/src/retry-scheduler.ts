import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigView } from '@app/messaging';
import { AttemptDelivery } from './attempt-delivery.usecase.js';
import { DeliveryStore, type ParkedDelivery } from './delivery-store.js';
import type { DispatcherConfig } from './dispatcher.config.js';
import { DISPATCHER_CONFIG } from './dispatcher.tokens.js';
import { EndpointLanes } from './endpoint-lanes.js';

const POLL_MS = 100;
const BATCH = 200;
const LANE_BUSY_DELAY_MS = 200;
// Claims only take active endpoints; this covers a state change the config view has not seen yet.
const INACTIVE_DELAY_MS = 1_000;

/** Takes parked deliveries from PostgreSQL when they are due and attempts them again. */
@Injectable()
export class RetryScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RetryScheduler.name);
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly store: DeliveryStore,
    private readonly config: ConfigView,
    private readonly lanes: EndpointLanes,
    private readonly attemptDelivery: AttemptDelivery,
    @Inject(DISPATCHER_CONFIG) private readonly settings: DispatcherConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.poll(), POLL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.running);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      // A claim outlives the longest attempt, so a crashed replica's claims come back.
      const due = await this.store.claimDue(BATCH, this.settings.WEBHOOK_TIMEOUT * 2 + 5_000);
      for (const delivery of due) {
        const task = this.retry(delivery).finally(() => this.running.delete(task));
        this.running.add(task);
      }
    } catch (error) {
      this.logger.warn(`cannot read parked deliveries: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async retry(delivery: ParkedDelivery): Promise<void> {
    try {
      const endpoint = this.config.endpoint(delivery.endpointId);
      if (!endpoint) return await this.store.remove(delivery.id);
      if (endpoint.state === 'DISABLED_GONE') {
        return await this.store.markFailed(delivery.endpointId, delivery.eventId, delivery.body);
      }
      if (endpoint.state !== 'ACTIVE') {
        return await this.store.reschedule(delivery.id, delivery.attempt, new Date(Date.now() + INACTIVE_DELAY_MS));
      }
      if (!this.lanes.tryAcquire(delivery.endpointId)) {
        return await this.store.reschedule(delivery.id, delivery.attempt, new Date(Date.now() + LANE_BUSY_DELAY_MS));
      }
      try {
        const outcome = await this.attemptDelivery.execute(endpoint, delivery.eventId, delivery.body, delivery.attempt);
        if (outcome.kind === 'retry') await this.store.reschedule(delivery.id, outcome.attempt, outcome.at);
        else if (outcome.kind === 'failed') await this.store.markFailed(delivery.endpointId, delivery.eventId, delivery.body);
        else await this.store.remove(delivery.id);
      } finally {
        this.lanes.release(delivery.endpointId);
      }
    } catch (error) {
      // Left claimed: it comes back when the claim expires.
      this.logger.warn(`retry of ${delivery.eventId} to ${delivery.endpointId} failed: ${(error as Error).message}`);
    }
  }
}
