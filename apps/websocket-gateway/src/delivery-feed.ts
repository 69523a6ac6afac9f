import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
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
  /** Its start is fixed (the stream's last message when it opened): until then nothing of it is forwarded. */
  fixed: boolean;
  /** The stream sequence of the last delivery forwarded (or before where the feed starts). */
  lastSeq: number;
  /** What the shared reader took of the endpoint before its start was fixed: those after the start are its first. */
  early: JsMsg[];
  /** Resolves once the feed's start is fixed. */
  ready: Promise<void>;
  /** Its own reader; null while the shared reader serves it. */
  reader: FeedReader | null;
  linger: NodeJS.Timeout | null;
  stopped: boolean;
}

/**
 * One ordered consumer of the deliveries stream, supervised: when its pull
 * ends it starts again after the last message it took, and the watchdog
 * restarts it when it stands still while messages wait for it.
 */
class FeedReader {
  consumer: Consumer | null = null;
  messages: ConsumerMessages | null = null;
  feeding = false;
  movedAt = Date.now();
  checkedAt = 0;
  stopped = false;
  readonly running: Promise<void>;

  constructor(
    /** What the logs call it: an endpoint's key, or `the shared feed`. */
    readonly name: string,
    private readonly nats: NatsClient,
    private readonly filter: string,
    /** The stream sequence it reads from, when it (re)starts. */
    private readonly from: () => number,
    private readonly take: (message: JsMsg) => void,
    private readonly logger: Logger,
    private readonly followStatus: boolean,
  ) {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    await this.running;
  }

  /** Ends the pull (the watchdog's): the loop starts it again after the last message taken. */
  restart(messages: ConsumerMessages): void {
    if (this.messages === messages) messages.stop();
  }

  private async run(): Promise<void> {
    const { jetstream, topology } = this.nats;
    let failures = 0;
    while (!this.stopped) {
      try {
        const consumer = (this.consumer = await jetstream.consumers.get(topology.streams.deliveries, {
          filter_subjects: this.filter,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.from(),
          // A killed replica's feeds leave the server soon rather than after five minutes.
          inactive_threshold: FEED_INACTIVE_MS,
        }));
        const messages = (this.messages = await consumer.consume({ max_messages: 1_024, expires: FEED_PULL_EXPIRES_MS }));
        if (this.stopped) break;
        if (this.followStatus) void this.logStatus(messages);
        this.feeding = true;
        this.movedAt = Date.now();
        failures = 0;
        for await (const message of messages) {
          this.movedAt = Date.now();
          this.take(message);
        }
      } catch (error) {
        if (!this.stopped) this.logger.error(`the feed of ${this.name} was interrupted (not ready until it resumes): ${(error as Error).message}`);
      } finally {
        this.feeding = false;
        this.messages?.stop();
        void this.consumer?.delete().catch(() => undefined);
      }
      if (this.stopped) break;
      failures += 1;
      const delay = backoffMs(failures, 200, 5_000);
      this.logger.warn(`restarting the feed of ${this.name} in ${delay} ms`);
      await sleep(delay);
    }
  }

  /** The ordered consumer's own recoveries (recreated after a gap, a lost server, missed heartbeats), at debug level. */
  private async logStatus(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'next' || status.type === 'heartbeat' || status.type === 'debug' || status.type === 'discard') continue;
      this.logger.debug?.(`the feed of ${this.name}: ${status.type} ${JSON.stringify(status)}`);
    }
  }
}

/**
 * Reads websocket deliveries for the endpoints this replica has clients of
 * (an endpoint's feed opens when its first client is admitted and closes
 * WS_FEED_LINGER after its last one left; a client that comes back
 * meanwhile resumes from memory), in one of two ways:
 *
 * - **A reader per endpoint** while the replica has clients of fewer than
 *   WS_SHARED_FEED_ENDPOINTS endpoints: an ordered consumer filtered to
 *   the endpoint's subject, so a replica with few endpoints reads only
 *   theirs, not all websocket traffic.
 * - **One shared reader** from WS_SHARED_FEED_ENDPOINTS endpoints on (and
 *   until they fall below half of it): one ordered consumer of every
 *   websocket delivery, passing over those of endpoints without a client
 *   here. On nats-server 2.9 each per-endpoint consumer scans the stream's
 *   blocks for its endpoint's next message, so many of them cost the server
 *   more than reading everything once (docs/benchmarks.md, The whole pipeline).
 *
 * Each feed has one source at a time (its own reader, or the shared one),
 * and a switch starts the new source at or before where the old one
 * stopped: nothing is skipped and nothing is sent twice. Reading the stream
 * rather than the subject means a delivery re-published after a router crash
 * is seen once, as the stream stored it once.
 *
 * A feed starts after the stream's last message as it is when the feed is
 * opened, which is before its first client's handshake completes: a client
 * receives everything stored while it is connected. A reader that stands
 * still while deliveries wait for it (a cluster that lost the server
 * holding its consumer) is restarted; `/readyz` fails meanwhile.
 */
@Injectable()
export class DeliveryFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryFeed.name);
  private readonly feeds = new Map<string, EndpointFeed>();
  /** The reader of every websocket delivery, while the replica has clients of many endpoints. */
  private shared: FeedReader | null = null;
  /** The shared reader took every websocket delivery up to here (for every feed it serves). */
  private sharedRead = 0;
  /** Whether the feeds should be read by the shared reader (else each by its own); the readers follow (reconcile). */
  private wantShared = false;
  private reconciling: Promise<void> | null = null;
  /** Feeds whose start is being fixed. */
  private readonly starting = new Set<Promise<void>>();
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
    // The feeds' ordered consumers: the websocket deliveries they have not read yet (all of them, for the shared reader).
    backlog.track('delivery-feed', async () => {
      const readers = this.readers().filter((reader) => reader.feeding && reader.consumer);
      const infos = await Promise.all(readers.map((reader) => reader.consumer!.info()));
      return { num_pending: infos.reduce((sum, info) => sum + info.num_pending, 0), num_ack_pending: 0 };
    });
  }

  onApplicationBootstrap(): void {
    // Every reader reads, and every feed has one (not so while the feeds move between readers).
    this.health.addCheck('delivery-feed', () => this.readers().every((reader) => reader.feeding) && [...this.feeds.values()].every((feed) => !feed.fixed || feed.stopped || feed.reader !== null || this.shared !== null));
    this.watchdog = setInterval(() => void this.checkReaders(), WATCHDOG_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    await Promise.all([...this.feeds.values()].map((feed) => this.stop(feed)));
    await this.reconciling;
    await this.shared?.stop();
  }

  /** The endpoints this replica reads, with the stream sequence each feed forwarded up to. */
  get positions(): Record<string, number> {
    return Object.fromEntries([...this.feeds.keys()].map((key) => [key, this.positionOf(key)]));
  }

  /** Whether one reader serves every endpoint of this replica (WS_SHARED_FEED_ENDPOINTS). */
  get readsShared(): boolean {
    return this.shared !== null;
  }

  /**
   * The stream sequence up to which the endpoint's live feed forwarded
   * (every delivery of the endpoint up to it went to the clients it had
   * then); 0 when it has none.
   */
  positionOf(endpointKey: string): number {
    const feed = this.feeds.get(endpointKey);
    if (!feed?.fixed) return 0;
    return feed.reader || !this.shared ? feed.lastSeq : Math.max(feed.lastSeq, this.sharedRead);
  }

  /**
   * Opens the endpoint's feed, or joins it: resolves once the feed's start
   * is fixed, so that everything stored afterwards reaches the endpoint's
   * clients. Every open is matched by one release.
   */
  async open(endpointKey: string): Promise<void> {
    let feed = this.feeds.get(endpointKey);
    if (!feed) {
      feed = { endpointKey, refs: 0, fixed: false, lastSeq: 0, early: [], ready: Promise.resolve(), reader: null, linger: null, stopped: false };
      this.feeds.set(endpointKey, feed);
      const started = feed;
      const ready = this.start(feed).finally(() => this.starting.delete(ready));
      this.starting.add(ready);
      feed.ready = ready.catch((error: Error) => {
        // Not started (NATS away): forgotten, so that the next client starts it afresh.
        started.stopped = true;
        if (this.feeds.get(endpointKey) === started) this.forget(started);
        throw error;
      });
      this.rebalance();
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

  /** Fixes the feed's start: after the stream's last message as it is now (new deliveries only). */
  private async start(feed: EndpointFeed): Promise<void> {
    const { manager, topology } = this.nats;
    const last = (await manager.streams.info(topology.streams.deliveries)).state.last_seq;
    if (feed.stopped || this.stopping) return;
    feed.lastSeq = last;
    feed.fixed = true;
    // What the shared reader took of it meanwhile: those after its start are the feed's first.
    const early = feed.early;
    feed.early = [];
    for (const message of early) this.take(feed, message);
    if (!this.wantShared) this.startReader(feed);
    this.logger.debug?.(`reading the deliveries of ${feed.endpointKey} after sequence ${feed.lastSeq}`);
  }

  private startReader(feed: EndpointFeed): void {
    feed.reader = new FeedReader(
      feed.endpointKey,
      this.nats,
      this.nats.topology.websocketDeliveries(feed.endpointKey),
      () => feed.lastSeq + 1,
      (message) => this.take(feed, message),
      this.logger,
      this.debugging,
    );
  }

  private async stop(feed: EndpointFeed): Promise<void> {
    if (feed.linger) clearTimeout(feed.linger);
    feed.stopped = true;
    if (this.feeds.get(feed.endpointKey) === feed) this.forget(feed);
    await feed.reader?.stop();
  }

  /** The feed is gone: what memory holds of it would have a gap once it is, so a resume reads the stream. */
  private forget(feed: EndpointFeed): void {
    this.feeds.delete(feed.endpointKey);
    this.recent.forget(feed.endpointKey);
    this.rebalance();
  }

  /** A delivery of the feed's endpoint, from its own reader or the shared one: sent to its clients once. */
  private take(feed: EndpointFeed, message: JsMsg): void {
    if (!feed.fixed) {
      if (!feed.stopped) feed.early.push(message);
      return;
    }
    if (message.seq <= feed.lastSeq || feed.stopped) return;
    feed.lastSeq = message.seq;
    const eventKey = message.headers?.get(Headers.eventId);
    if (eventKey) this.recent.add(feed.endpointKey, eventKey, message.seq, message.data, message.headers?.has(Headers.resent) ?? false);
    const sent = this.clients.broadcast(feed.endpointKey, message.data, message.seq);
    if (sent > 0) this.metrics.delivered(acceptedAtOf(message.headers));
    // Built only when printed: nothing per delivery at the usual levels.
    if (this.debugging) this.logger.debug(`sent sequence ${message.seq} live to ${sent} of ${this.clients.countOf(feed.endpointKey)} clients of ${feed.endpointKey}`, ...eventLog(eventKey));
    this.forwarded += 1;
  }

  /** A message of the shared reader: its endpoint's, if the endpoint has a feed here that no reader of its own serves. */
  private takeShared(message: JsMsg): void {
    const feed = this.feeds.get(this.nats.topology.endpointOfDelivery(message.subject));
    if (feed && !feed.reader) this.take(feed, message);
    this.sharedRead = message.seq;
  }

  /** Decides how the feeds are read from how many there are (with a margin, so a count near the line does not flap), and has the readers follow. */
  private rebalance(): void {
    if (this.stopping) return;
    const enter = Math.max(1, this.settings.WS_SHARED_FEED_ENDPOINTS);
    const leave = Math.max(1, Math.floor(this.settings.WS_SHARED_FEED_ENDPOINTS / 2));
    this.wantShared = this.wantShared ? this.feeds.size >= leave : this.feeds.size >= enter;
    if (this.reconciling || !this.switchDue()) return;
    this.reconciling = this.reconcile()
      .catch((error: Error) => {
        this.logger.error(`cannot switch how the feeds are read, trying again: ${error.message}`);
        return sleep(1_000);
      })
      .finally(() => {
        this.reconciling = null;
        // Asked for while the last step finished.
        this.rebalance();
      });
  }

  /** Whether the feeds are not read as wanted yet. */
  private switchDue(): boolean {
    if (this.stopping) return false;
    const feeds = [...this.feeds.values()];
    return this.wantShared ? !this.shared || feeds.some((feed) => feed.reader) : this.shared !== null || feeds.some((feed) => feed.fixed && !feed.reader && !feed.stopped);
  }

  /** Moves the feeds to the shared reader, or back to readers of their own, until they are read as wanted. */
  private async reconcile(): Promise<void> {
    while (this.switchDue()) {
      if (this.wantShared) await this.toShared();
      else await this.toOwnReaders();
    }
  }

  /**
   * Every feed to the shared reader: their own readers stop, and the shared
   * one starts at the lowest position among them (and the shared reader's
   * own, when it was reading), so each feed goes on from where it was. A
   * feed with nothing of its endpoint stored after its position counts as
   * being at the stream's end: a quiet endpoint does not have the shared
   * reader read hours of other endpoints' deliveries again.
   */
  private async toShared(): Promise<void> {
    await this.stopShared();
    await Promise.all(
      [...this.feeds.values()].map(async (feed) => {
        const reader = feed.reader;
        if (!reader) return;
        await reader.stop();
        // Taken by the shared reader from here on, unless it was given a reader of its own again meanwhile.
        if (feed.reader === reader) feed.reader = null;
      }),
    );
    const { manager, topology } = this.nats;
    // The server answers in order: a start asked for after this lands at or after it; those asked for before are waited for.
    const end = (await manager.streams.info(topology.streams.deliveries)).state.last_seq;
    await Promise.allSettled([...this.starting]);
    const served = () => [...this.feeds.values()].filter((feed) => feed.fixed && !feed.reader && !feed.stopped);
    await Promise.all(
      served()
        .filter((feed) => feed.lastSeq < end)
        .map(async (feed) => {
          // Looked up after `end` was: nothing of the endpoint after its position means nothing up to `end` either.
          const last = await manager.streams.getMessage(topology.streams.deliveries, { last_by_subj: topology.websocketDeliveries(feed.endpointKey) }).catch(() => undefined);
          if (last !== undefined && (last === null || last.seq <= feed.lastSeq) && !feed.reader) feed.lastSeq = Math.max(feed.lastSeq, end);
        }),
    );
    if (!this.wantShared || this.stopping) return;
    const from = Math.min(end, ...served().map((feed) => feed.lastSeq));
    this.sharedRead = from;
    this.shared = new FeedReader('the shared feed', this.nats, topology.allWebsocketDeliveries, () => this.sharedRead + 1, (message) => this.takeShared(message), this.logger, this.debugging);
    this.logger.log(`reading the websocket deliveries of all ${this.feeds.size} endpoints with clients here with one consumer, from sequence ${from + 1}`);
  }

  /** Every feed to a reader of its own, from where the shared reader took it. */
  private async toOwnReaders(): Promise<void> {
    const wasShared = this.shared !== null;
    await this.stopShared();
    for (const feed of this.feeds.values()) if (feed.fixed && !feed.reader && !feed.stopped && !this.wantShared && !this.stopping) this.startReader(feed);
    if (wasShared) this.logger.log(`reading each of the ${this.feeds.size} endpoints with clients here with a consumer of its own`);
  }

  /** Stops the shared reader; the feeds it served are then at its position. */
  private async stopShared(): Promise<void> {
    const shared = this.shared;
    if (!shared) return;
    await shared.stop();
    this.shared = null;
    for (const feed of this.feeds.values()) if (feed.fixed && !feed.reader) feed.lastSeq = Math.max(feed.lastSeq, this.sharedRead);
  }

  private readers(): FeedReader[] {
    const own = [...this.feeds.values()].flatMap((feed) => (feed.reader && !feed.reader.stopped ? [feed.reader] : []));
    return this.shared && !this.shared.stopped ? [this.shared, ...own] : own;
  }

  /**
   * Ends the pull of a reader that stands still while the stream holds
   * deliveries after it, or whose consumer is gone from the server: on a
   * JetStream cluster that lost the server holding the ordered consumer, the
   * pull can wait for ever without an error. Its loop starts again after the last message it took.
   */
  private async checkReaders(): Promise<void> {
    if (!this.nats.connected) return;
    const now = Date.now();
    for (const reader of this.readers()) {
      const { consumer, messages } = reader;
      if (!reader.feeding || !consumer || !messages || now - reader.movedAt < STALL_MS || now - reader.checkedAt < STALL_CHECK_EVERY_MS) continue;
      reader.checkedAt = now;
      const stalled = await consumer.info().then(
        (info) => info.num_pending > 0,
        () => true,
      );
      if (!stalled) continue;
      this.logger.warn(`the feed of ${reader.name} stood still for ${Math.round((Date.now() - reader.movedAt) / 1_000)} s with deliveries waiting; restarting it`);
      reader.restart(messages);
    }
  }
}
