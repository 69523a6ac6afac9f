import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, type Consumer, type ConsumerMessages } from '@nats-io/jetstream';
import { acceptedAtOf, ConsumerBacklog, Headers, NatsClient } from '@app/messaging';
import { backoffMs, eventLog, HealthServer } from '@app/runtime';
import { ClientRegistry } from './client-registry.js';
import { RecentDeliveries } from './recent-deliveries.js';
import { GatewayMetrics } from './gateway.metrics.js';
import type { GatewayConfig } from './gateway.config.js';
import { GATEWAY_CONFIG } from './gateway.tokens.js';

/** How often the feeds are checked for standing still. */
const WATCHDOG_INTERVAL_MS = 2_000;
/** How long a feed may stand still before the server is asked whether deliveries wait for it. */
const STALL_MS = 5_000;
/** A feed standing still is asked about at most this often (a quiet endpoint stands still by nature). */
const STALL_CHECK_EVERY_MS = 10_000;

/** A feed's consumer left without pulls (its replica was killed) is removed by the server after this. */
const FEED_INACTIVE_MS = 10_000;
/**
 * How long a feed's pull request lasts; the server's idle heartbeats come
 * every half of it, and two missed make the client reset the ordered
 * consumer (a consumer made again on the server). With 5 s, a nats-server
 * loaded by many feeds sent its heartbeats late, dozens of feeds were reset
 * at once, and feeds stood still 5–27 s until the watchdog restarted them
 * (docs/benchmarks.md, The whole pipeline). A pull lost with the
 * connection is made again when the client reconnects, and one lost
 * otherwise is the watchdog's (STALL_MS), so a long one costs no recovery.
 */
const FEED_PULL_EXPIRES_MS = 30_000;

/** One endpoint's live feed on this replica. */
interface EndpointFeed {
  readonly endpointKey: string;
  /** Clients of the endpoint on this replica (and admissions under way). */
  refs: number;
  /** The stream sequence of the last delivery forwarded (or before where the feed starts). */
  lastSeq: number;
  /** Resolves once the feed's start is fixed. */
  ready: Promise<void>;
  consumer: Consumer | null;
  messages: ConsumerMessages | null;
  feeding: boolean;
  movedAt: number;
  checkedAt: number;
  linger: NodeJS.Timeout | null;
  stopped: boolean;
  running: Promise<void> | null;
}

/**
 * Reads websocket deliveries for the endpoints this replica has clients of,
 * and no others: one ordered consumer per endpoint, filtered to that
 * endpoint's subjects, opened when its first client is admitted and closed
 * WS_FEED_LINGER after its last one left (a client that comes back meanwhile
 * resumes from memory). So a replica's reads grow with its own clients'
 * endpoints, not with all websocket traffic. Reading the stream rather than
 * the subject means a delivery re-published after a router crash is seen
 * once, as the stream stored it once.
 *
 * A feed starts after the stream's last message as it is when the feed is
 * opened, which is before its first client's handshake completes: a client
 * receives everything stored while it is connected. Each feed supervises
 * itself: when its pull ends it starts again after the last sequence it
 * forwarded, and one that stands still while deliveries wait for it (a
 * cluster that lost the server holding its consumer) is restarted;
 * `/readyz` fails meanwhile.
 */
@Injectable()
export class DeliveryFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryFeed.name);
  private readonly feeds = new Map<string, EndpointFeed>();
  private stopping = false;
  private watchdog: NodeJS.Timeout | null = null;
  /** LOG_LEVEL=debug: each delivery sent, and the feeds' consumer recoveries, are logged. */
  private readonly debugging: boolean;
  forwarded = 0;

  constructor(
    private readonly nats: NatsClient,
    private readonly clients: ClientRegistry,
    private readonly recent: RecentDeliveries,
    private readonly health: HealthServer,
    private readonly metrics: GatewayMetrics,
    @Inject(GATEWAY_CONFIG) private readonly settings: GatewayConfig,
    backlog: ConsumerBacklog,
  ) {
    this.debugging = settings.LOG_LEVEL === 'debug';
    // The feeds' ordered consumers: the websocket deliveries of this replica's endpoints it has not read yet.
    backlog.track('delivery-feed', async () => {
      const feeds = [...this.feeds.values()].filter((feed) => feed.feeding && feed.consumer);
      const infos = await Promise.all(feeds.map((feed) => feed.consumer!.info()));
      return { num_pending: infos.reduce((sum, info) => sum + info.num_pending, 0), num_ack_pending: 0 };
    });
  }

  onApplicationBootstrap(): void {
    this.health.addCheck('delivery-feed', () => [...this.feeds.values()].every((feed) => feed.feeding || feed.stopped));
    this.watchdog = setInterval(() => void this.checkFeeds(), WATCHDOG_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    await Promise.all([...this.feeds.values()].map((feed) => this.stop(feed)));
  }

  /** The endpoints this replica reads, with the stream sequence each feed forwarded up to. */
  get positions(): Record<string, number> {
    return Object.fromEntries([...this.feeds.values()].map((feed) => [feed.endpointKey, feed.lastSeq]));
  }

  /** The stream sequence up to which the endpoint's live feed forwarded; 0 when it has none. */
  positionOf(endpointKey: string): number {
    return this.feeds.get(endpointKey)?.lastSeq ?? 0;
  }

  /**
   * Opens the endpoint's feed, or joins it: resolves once the feed's start
   * is fixed, so that everything stored afterwards reaches the endpoint's
   * clients. Every open is matched by one release.
   */
  async open(endpointKey: string): Promise<void> {
    let feed = this.feeds.get(endpointKey);
    if (!feed) {
      feed = {
        endpointKey,
        refs: 0,
        lastSeq: 0,
        ready: Promise.resolve(),
        consumer: null,
        messages: null,
        feeding: false,
        movedAt: Date.now(),
        checkedAt: 0,
        linger: null,
        stopped: false,
        running: null,
      };
      this.feeds.set(endpointKey, feed);
      const started = feed;
      feed.ready = this.start(feed).catch((error: Error) => {
        // Not started (NATS away): forgotten, so that the next client starts it afresh.
        started.stopped = true;
        if (this.feeds.get(endpointKey) === started) this.feeds.delete(endpointKey);
        throw error;
      });
    }
    feed.refs += 1;
    if (feed.linger) {
      clearTimeout(feed.linger);
      feed.linger = null;
    }
    try {
      await feed.ready;
    } catch (error) {
      feed.refs -= 1;
      throw error;
    }
  }

  /** A client of the endpoint left (or was not admitted after all): its feed closes WS_FEED_LINGER after the last one. */
  release(endpointKey: string): void {
    const feed = this.feeds.get(endpointKey);
    if (!feed || feed.refs === 0) return;
    feed.refs -= 1;
    if (feed.refs > 0 || this.stopping) return;
    feed.linger = setTimeout(() => void this.stop(feed), this.settings.WS_FEED_LINGER);
    feed.linger.unref();
  }

  private async start(feed: EndpointFeed): Promise<void> {
    const { manager, topology } = this.nats;
    // New deliveries only: after the stream's last message as it is now.
    feed.lastSeq = (await manager.streams.info(topology.streams.deliveries)).state.last_seq;
    feed.running = this.run(feed);
    this.logger.debug?.(`reading the deliveries of ${feed.endpointKey} after sequence ${feed.lastSeq}`);
  }

  private async stop(feed: EndpointFeed): Promise<void> {
    if (feed.linger) clearTimeout(feed.linger);
    feed.stopped = true;
    feed.messages?.stop();
    if (this.feeds.get(feed.endpointKey) === feed) this.feeds.delete(feed.endpointKey);
    // What memory holds of it would have a gap once the feed is gone: a resume reads the stream.
    this.recent.forget(feed.endpointKey);
    await feed.running;
  }

  /**
   * Ends a feed that stands still while the stream holds deliveries after
   * it, or whose consumer is gone from the server: on a JetStream cluster
   * that lost the server holding the ordered consumer, the pull can wait for
   * ever without an error. Its loop starts again after the last sequence forwarded.
   */
  private async checkFeeds(): Promise<void> {
    if (!this.nats.connected) return;
    const now = Date.now();
    for (const feed of this.feeds.values()) {
      const { consumer, messages } = feed;
      if (!feed.feeding || !consumer || !messages || now - feed.movedAt < STALL_MS || now - feed.checkedAt < STALL_CHECK_EVERY_MS) continue;
      feed.checkedAt = now;
      const stalled = await consumer.info().then(
        (info) => info.num_pending > 0,
        () => true,
      );
      if (!stalled || feed.messages !== messages) continue;
      this.logger.warn(`the feed of ${feed.endpointKey} stood still for ${Math.round((Date.now() - feed.movedAt) / 1_000)} s with deliveries waiting; restarting it`);
      messages.stop();
    }
  }

  /** The ordered consumer's own recoveries (recreated after a gap, a lost server, missed heartbeats), at debug level. */
  private async followStatus(feed: EndpointFeed, messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'next' || status.type === 'heartbeat' || status.type === 'debug' || status.type === 'discard') continue;
      this.logger.debug?.(`the feed of ${feed.endpointKey} (after sequence ${feed.lastSeq}): ${status.type} ${JSON.stringify(status)}`);
    }
  }

  private async run(feed: EndpointFeed): Promise<void> {
    const { jetstream, topology } = this.nats;
    let failures = 0;
    while (!feed.stopped && !this.stopping) {
      try {
        const consumer = (feed.consumer = await jetstream.consumers.get(topology.streams.deliveries, {
          filter_subjects: topology.websocketDeliveries(feed.endpointKey),
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: feed.lastSeq + 1,
          // A killed replica's feeds leave the server soon rather than after five minutes.
          inactive_threshold: FEED_INACTIVE_MS,
        }));
        const messages = (feed.messages = await consumer.consume({ max_messages: 1_024, expires: FEED_PULL_EXPIRES_MS }));
        if (feed.stopped) break;
        if (this.debugging) void this.followStatus(feed, messages);
        feed.feeding = true;
        feed.movedAt = Date.now();
        failures = 0;
        for await (const message of feed.messages) {
          feed.lastSeq = message.seq;
          feed.movedAt = Date.now();
          const eventKey = message.headers?.get(Headers.eventId);
          if (eventKey) this.recent.add(feed.endpointKey, eventKey, message.seq, message.data, message.headers?.has(Headers.resent) ?? false);
          const sent = this.clients.broadcast(feed.endpointKey, message.data, message.seq);
          if (sent > 0) this.metrics.delivered(acceptedAtOf(message.headers));
          // Built only when printed: nothing per delivery at the usual levels.
          if (this.debugging) this.logger.debug(`sent sequence ${message.seq} live to ${sent} of ${this.clients.countOf(feed.endpointKey)} clients of ${feed.endpointKey}`, ...eventLog(eventKey));
          this.forwarded += 1;
        }
      } catch (error) {
        if (!feed.stopped && !this.stopping) this.logger.error(`the feed of ${feed.endpointKey} was interrupted (not ready until it resumes): ${(error as Error).message}`);
      } finally {
        feed.feeding = false;
        feed.messages?.stop();
        void feed.consumer?.delete().catch(() => undefined);
      }
      if (feed.stopped || this.stopping) break;
      failures += 1;
      const delay = backoffMs(failures, 200, 5_000);
      this.logger.warn(`restarting the feed of ${feed.endpointKey} after sequence ${feed.lastSeq} in ${delay} ms`);
      await sleep(delay);
    }
  }
}
