import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, type Consumer, type ConsumerMessages } from '@nats-io/jetstream';
import { acceptedAtOf, ConsumerBacklog, Headers, NatsClient } from '@app/messaging';
import { backoffMs, eventLog, HealthServer, retryWhileTransient } from '@app/runtime';
import { ClientRegistry } from './client-registry.js';
import { RecentDeliveries } from './recent-deliveries.js';
import { GatewayMetrics } from './gateway.metrics.js';

/** How often the feed checks that it moves. */
const WATCHDOG_INTERVAL_MS = 2_000;
/** How long the feed may stand still with deliveries waiting before it is restarted. */
const STALL_MS = 5_000;

/**
 * Reads websocket deliveries from the deliveries stream with an ordered
 * consumer of this replica's own (every replica sees every delivery, and
 * forwards those of endpoints it has clients for). Reading the stream rather
 * than the subject means a delivery re-published after a router crash is
 * seen once, as the stream stored it once.
 *
 * The feed supervises itself: when the pull ends (the stream was re-created,
 * the server restarted and the consumer could not be restored) it starts
 * again after the last sequence it forwarded, so connected clients miss
 * nothing; `/readyz` fails meanwhile.
 */
@Injectable()
export class DeliveryFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryFeed.name);
  private messages: ConsumerMessages | null = null;
  private consumer: Consumer | null = null;
  private running: Promise<void> | null = null;
  private stopping = false;
  private feeding = false;
  /** The stream sequence of the last delivery forwarded; the feed resumes after it. */
  private lastSeq = 0;
  /** When the feed last moved (a delivery read, or the pull started). */
  private movedAt = Date.now();
  private watchdog: NodeJS.Timeout | null = null;
  forwarded = 0;

  /** The stream sequence of the last websocket delivery forwarded to the clients. */
  get position(): number {
    return this.lastSeq;
  }

  constructor(
    private readonly nats: NatsClient,
    private readonly clients: ClientRegistry,
    private readonly recent: RecentDeliveries,
    private readonly health: HealthServer,
    private readonly metrics: GatewayMetrics,
    backlog: ConsumerBacklog,
  ) {
    // The feed's ordered consumer: its pending count is the websocket deliveries this replica has not read yet.
    backlog.track('delivery-feed', async () => (this.feeding && this.consumer ? this.consumer.info() : null));
  }

  async onApplicationBootstrap(): Promise<void> {
    this.health.addCheck('delivery-feed', () => this.feeding);
    const { manager, topology } = this.nats;
    // New deliveries only: start after the stream's last message as it is now.
    this.lastSeq = (await retryWhileTransient('delivery feed set-up', () => manager.streams.info(topology.streams.deliveries))).state.last_seq;
    this.running = this.run();
    this.watchdog = setInterval(() => void this.checkFeed(), WATCHDOG_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.messages?.stop();
    await this.running;
  }

  /**
   * Ends a pull that stands still while the stream holds deliveries after
   * it, or whose consumer is gone from the server: on a JetStream cluster
   * that lost the server holding this replica's ordered consumer, the pull
   * can wait for ever without an error. The loop starts again after the last
   * sequence forwarded.
   */
  private async checkFeed(): Promise<void> {
    const { consumer, messages } = this;
    if (!this.feeding || !consumer || !messages || !this.nats.connected || Date.now() - this.movedAt < STALL_MS) return;
    const stalled = await consumer.info().then(
      (info) => info.num_pending > 0,
      () => true,
    );
    if (!stalled || this.messages !== messages) return;
    this.logger.warn(`the delivery feed stood still for ${Math.round((Date.now() - this.movedAt) / 1_000)} s with deliveries waiting; restarting it`);
    messages.stop();
  }

  private async run(): Promise<void> {
    const { jetstream, topology } = this.nats;
    let failures = 0;
    while (!this.stopping) {
      try {
        const consumer = (this.consumer = await jetstream.consumers.get(topology.streams.deliveries, {
          filter_subjects: topology.allWebsocketDeliveries,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.lastSeq + 1,
        }));
        // Short pull requests: after NATS restarts, a lost request is noticed (missed heartbeats)
        // and replaced within seconds rather than the default half minute.
        this.messages = await consumer.consume({ max_messages: 1_024, expires: 5_000 });
        this.feeding = true;
        this.movedAt = Date.now();
        failures = 0;
        for await (const message of this.messages) {
          this.lastSeq = message.seq;
          this.movedAt = Date.now();
          const endpointId = topology.endpointOfDelivery(message.subject);
          const eventKey = topology.eventOfWebsocketDelivery(message.subject);
          if (eventKey) this.recent.add(endpointId, eventKey, message.seq, message.data, message.headers?.has(Headers.resent) ?? false);
          const sent = this.clients.broadcast(endpointId, message.data, message.seq);
          if (sent > 0) {
            this.metrics.delivered(acceptedAtOf(message.headers));
            this.logger.debug(`sent live to ${sent} clients of ${endpointId}`, ...eventLog(eventKey));
          }
          this.forwarded += 1;
        }
      } catch (error) {
        if (!this.stopping) this.logger.error(`delivery feed interrupted (not ready until it resumes): ${(error as Error).message}`);
      } finally {
        this.feeding = false;
      }
      if (this.stopping) break;
      failures += 1;
      const delay = backoffMs(failures, 200, 5_000);
      this.logger.warn(`restarting the delivery feed after sequence ${this.lastSeq} in ${delay} ms`);
      await sleep(delay);
    }
  }
}
