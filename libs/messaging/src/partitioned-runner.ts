import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { backoffMs, eventLog, InFlight, retryWhileTransient } from '@app/runtime';
import type { HandleContext, MessageHandler, ResolvedSpec } from './consumer.js';
import { deadLetter, judgeFailure, retryDelayOf, type ConsumerStats } from './consumer-runner.js';
import { DEFAULT_LEASE_TTL_MS, Leases, openLeasesBucket, type Lease } from './lease.js';
import type { NatsClient } from './nats-connection.js';
import { DeadLetterReason, Outcome } from './outcome.js';
import { DEFAULT_PARTITIONS, instanceName, legacyFloor, partitionOf, PartitionStore } from './partitions.js';

/** How often held partitions' positions are looked at, and written once the stream is quiet. */
const POSITION_INTERVAL_MS = 250;
/** While messages flow, a position is written at most this often: a new holder handles again what was done since. */
const POSITION_WRITE_EVERY_MS = 1_000;
/** How often the reader checks that it moves. */
const WATCHDOG_INTERVAL_MS = 2_000;
/** How long the reader may stand still with messages waiting before it is restarted. */
const STALL_MS = 5_000;
/** A reader's consumer left without pulls (its replica was killed) is removed by the server after this. */
const READER_INACTIVE_MS = 10_000;

/** How a partitioned consumer is shared out (PARTITIONS, PARTITION_LEASE_TTL). */
export interface PartitionSettings {
  /** Partitions of a new consumer; an existing one keeps the count it was set up with. */
  count: number;
  /** How long a partition's lease outlives a replica that stopped renewing it. */
  leaseTtlMs: number;
  /** This replica's name among the app's (its host and process id unless given: two in one process need names of their own). */
  instance?: string;
}

export const DEFAULT_PARTITION_SETTINGS: PartitionSettings = { count: DEFAULT_PARTITIONS, leaseTtlMs: DEFAULT_LEASE_TTL_MS };

/** A partition this replica holds. */
interface Held {
  readonly index: number;
  readonly lease: Lease;
  /** Every message of the partition up to here was read by this replica (and is done, or in `pending`). */
  passed: number;
  /** Messages of the partition being handled, by stream sequence. */
  readonly pending: Set<number>;
  /** Messages left to the next holder (the lease was lost while they were in hand): not done. */
  readonly abandoned: Set<number>;
  /** Being handed over (or lost): its new messages are left to the next holder. */
  leaving: boolean;
  /** The last position written, and when. */
  written: number;
  writtenAt: number;
}

/** What a partitioned runner reports in /readyz. */
export interface PartitionedStats extends ConsumerStats {
  partitions: number[];
  /** The stream sequence of the last message read (handled, in hand, or another partition's). */
  readTo: number;
  /** Where the reader last started (a stream sequence): it starts again, from the lowest partition taken, when one is taken behind it. */
  readerFrom: number;
}

/**
 * Runs a partitioned consumer: the stream's messages are shared out among
 * the app's replicas by partition (`spec.partitionKey`, hashed into a fixed
 * number of partitions), each partition held by one replica at a time under
 * a lease (Leases), so that any number of replicas keep each key's order.
 *
 * A replica reads the stream with an ordered consumer of its own from the
 * lowest position of the partitions it holds, handles the messages of those
 * partitions and passes over the others. Handlers start in stream order;
 * a handler awaits `context.turn` before publishing, which resolves when
 * every earlier message of its key has its outcome, so a key's messages
 * are stored downstream in their order even when one is retried. A
 * partition's position (every message of it up to there is done) is
 * written to the leases bucket as it moves; its next holder starts after
 * it, and publishes again, under the same message ids, what was done past
 * it (the streams store those once).
 *
 * Replicas register as members and share the partitions evenly, by rank:
 * one that holds more than its share hands the extra over (it stops taking
 * their messages, waits for those in flight, writes the position, then
 * releases the lease); one below its share takes free partitions, and
 * those of a replica that stopped renewing its lease for a whole TTL. So
 * no message is handled by two replicas at once (but for a process that
 * stood still for longer than a third of the TTL: Leases).
 */
export class PartitionedRunner {
  private readonly logger: Logger;
  private store!: PartitionStore;
  private leases!: Leases;
  private count = 0;
  private readonly instance: string;
  private readonly held = new Map<number, Held>();
  /**
   * Partitions whose lease this replica lost, as they were: what its
   * handlers finished after the loss is done, and it goes on from there if
   * it takes the partition back (rather than handling it again).
   */
  private readonly lost = new Map<number, Held>();
  /** The turn of the last message started of each key (true once done or passed, false when left to the partition's next holder): the next one of the key publishes after it. */
  private readonly chains = new Map<string, { held: Held | null; next: Promise<boolean> }>();
  private readonly inFlight = new InFlight();
  private consumer: Consumer | null = null;
  private messages: ConsumerMessages | null = null;
  /** The stream sequence of the last message the reader took (or before where it starts). */
  private lastRead = 0;
  /** Messages of every partition (a null key) are applied up to here. */
  private broadcastPassed = 0;
  private readonly wantsBroadcasts: boolean;
  private restarting = false;
  private reading = false;
  /** Where the current reader started, while one is being started or reads. */
  private readFrom: number | null = null;
  private movedAt = Date.now();
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private writer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private ticking = false;
  /** A round of position writes is under way (one at a time). */
  private writing = false;
  private started = false;
  private stopping = false;
  private stalledSince: number | null = null;
  /** Other members, by name: when this process last saw each renew (a member that stops renewing is gone after a TTL). */
  private readonly members = new Map<string, { revision: number; since: number }>();
  /** The watches of the members and of the partitions' leases (no listing per tick). */
  private readonly watches: Array<{ stop(): void }> = [];
  readonly stats: PartitionedStats = { done: 0, skipped: 0, retried: 0, partitions: [], readTo: 0, readerFrom: 0 };

  constructor(
    private readonly client: NatsClient,
    private readonly spec: ResolvedSpec,
    private readonly handler: MessageHandler,
    private readonly settings: PartitionSettings,
    private readonly dependenciesReachable: () => boolean = () => client.connected,
    private readonly deadLettered: (reason: DeadLetterReason) => void = () => undefined,
  ) {
    this.logger = new Logger(`Partitions:${spec.durable}`);
    this.instance = settings.instance ?? instanceName();
    this.wantsBroadcasts = typeof handler.broadcastFrom === 'function';
  }

  get durable(): string {
    return this.spec.durable;
  }

  /** How often a position is written while messages flow. */
  private get writeEveryMs(): number {
    return this.spec.positionEveryMs ?? POSITION_WRITE_EVERY_MS;
  }

  /** Set up and reading what it holds (or holding nothing), and not stuck on a dependency that is away. */
  get healthy(): boolean {
    const idle = this.held.size === 0 && !this.wantsBroadcasts;
    return this.started && (idle || this.reading) && this.stalledSince === null;
  }

  /** The partitions this replica holds. */
  get partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Whether this replica holds the partition of `key` (and is not handing it over). */
  holds(key: string): boolean {
    if (this.count === 0) return false;
    const held = this.held.get(partitionOf(key, this.count));
    return held !== undefined && !held.leaving && held.lease.held;
  }

  /** Messages of its partitions this replica has not done yet: from the lowest position to the stream's last message. */
  async backlog(): Promise<{ num_pending: number; num_ack_pending: number } | null> {
    if (!this.started) return null;
    const { manager, topology } = this.client;
    const last = (await manager.streams.getMessage(this.spec.stream(topology), { last_by_subj: this.spec.filterSubject(topology) }))?.seq ?? 0;
    const positions = [...this.held.values()].map((held) => this.positionOf(held));
    const pending = [...this.held.values()].reduce((sum, held) => sum + held.pending.size, 0);
    return { num_pending: positions.length > 0 ? Math.max(0, last - Math.min(...positions)) : 0, num_ack_pending: pending };
  }

  async start(): Promise<void> {
    const { topology } = this.client;
    const stream = this.spec.stream(topology);
    const bucket = await openLeasesBucket(this.client);
    this.store = new PartitionStore(bucket, this.spec.durable);
    this.leases = Leases.over(bucket, this.instance, this.settings.leaseTtlMs);
    this.count = await retryWhileTransient(`${this.spec.durable} partitions set-up`, async () => {
      const stored = await this.store.count();
      if (stored !== null) return stored;
      // An upgrade goes on from where the earlier version's durable consumer had got to.
      return this.store.setUp(this.settings.count, await legacyFloor(this.client, stream, this.spec.durable));
    });
    if (this.count !== this.settings.count) {
      this.logger.warn(`${this.spec.durable} has ${this.count} partitions (set up by its first replica); PARTITIONS=${this.settings.count} is ignored`);
    }
    // The earlier version's durable consumer is read no more; left, its ack floor would keep the stream from being trimmed.
    await this.client.manager.consumers.delete(stream, this.spec.durable).catch(() => undefined);
    if (this.wantsBroadcasts) this.broadcastPassed = Math.max(0, this.handler.broadcastFrom!() - 1);
    this.started = true;
    // Who is there, and who renews which partition, as the bucket says it: two watches, kept open.
    await this.watch(this.store.membersFilter, (key, revision, live) => {
      const name = key.slice(key.lastIndexOf('.') + 1);
      if (name === this.instance) return;
      if (live) this.members.set(name, { revision, since: Date.now() });
      else this.members.delete(name);
    });
    await this.watch(PartitionStore.leaseName(this.spec.durable, '*'), (key, revision, live) => this.leases.saw(key, live ? revision : null));
    await this.tick();
    this.loop = this.read();
    this.ticker = setInterval(() => void this.tick(), Math.max(50, Math.floor(this.settings.leaseTtlMs / 3)));
    this.writer = setInterval(() => void this.writePositions(), Math.min(POSITION_INTERVAL_MS, this.writeEveryMs));
    this.watchdog = setInterval(() => void this.checkReader(), WATCHDOG_INTERVAL_MS);
  }

  /** Hands every partition over (the others take them at once), then stops reading. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const timer of [this.ticker, this.writer, this.watchdog]) if (timer) clearInterval(timer);
    while (this.ticking) await sleep(10);
    // No longer a member: the others count their shares without it, and take what it hands over at once.
    if (this.started) await this.store.bucket.delete(this.store.memberKey(this.instance)).catch(() => undefined);
    await Promise.all([...this.held.values()].map((held) => this.handOver(held)));
    this.messages?.stop();
    this.wake?.();
    await this.loop;
    await this.inFlight.settled();
    for (const watch of this.watches) watch.stop();
    this.logger.log(`stopped: ${this.stats.done} messages done, ${this.stats.skipped} dead-lettered, ${this.stats.retried} retries`);
  }

  /** Every message of the partition up to here is done. */
  private positionOf(held: Held): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const seq of held.pending) lowest = Math.min(lowest, seq);
    for (const seq of held.abandoned) lowest = Math.min(lowest, seq);
    return Number.isFinite(lowest) ? lowest - 1 : held.passed;
  }

  /** Renews this replica's membership and brings the partitions it holds to its share. */
  private async tick(): Promise<void> {
    if (this.ticking || this.stopping) return;
    this.ticking = true;
    try {
      await this.store.bucket.put(this.store.memberKey(this.instance), new Date().toISOString());
      const members = await this.liveMembers();
      const rank = Math.max(0, members.indexOf(this.instance));
      const share = Math.floor(this.count / members.length) + (rank < this.count % members.length ? 1 : 0);
      const mine = [...this.held.values()].filter((held) => !held.leaving).sort((a, b) => a.index - b.index);
      if (mine.length > share) {
        for (const held of mine.slice(share)) void this.handOver(held);
        return;
      }
      // From a point of its own in the ring, so that replicas starting together ask for different partitions first.
      const first = Math.floor((rank * this.count) / members.length);
      // Asked for together, as many as the share lacks at a time (the leases' watch has timed their holders'
      // renewals: one that stopped a TTL ago is taken at once).
      const candidates = Array.from({ length: this.count }, (_, step) => (first + step) % this.count).filter((partition) => !this.held.has(partition));
      while (candidates.length > 0 && this.held.size < share && !this.stopping) {
        const batch = candidates.splice(0, share - this.held.size);
        const leases = await Promise.all(batch.map(async (partition) => ({ partition, lease: await this.leases.tryAcquire(PartitionStore.leaseName(this.spec.durable, partition)) })));
        for (const { partition, lease } of leases) {
          if (!lease) continue;
          if (this.held.size >= share || this.stopping) await lease.release();
          else await this.take(partition, lease);
        }
      }
    } catch (error) {
      this.logger.warn(`cannot share out the partitions now: ${(error as Error).message}`);
    } finally {
      this.ticking = false;
    }
  }

  /** The members renewed within a TTL (as seen on this process's clock), this one included, by name. */
  private async liveMembers(): Promise<string[]> {
    const now = Date.now();
    const live = [this.instance];
    for (const [name, seen] of this.members) {
      if (now - seen.since < this.settings.leaseTtlMs) live.push(name);
      else if (now - seen.since > 3 * this.settings.leaseTtlMs) {
        // Gone for good (killed): its key is removed, unless it renewed it meanwhile.
        await this.store.bucket.delete(this.store.memberKey(name), { previousSeq: seen.revision }).catch(() => undefined);
        this.members.delete(name);
      }
    }
    return live.sort();
  }

  /**
   * Follows the keys matching `filter`: `seen` is told of each change as it
   * comes (live: a value put; not live: deleted). Started again when it ends.
   */
  private async watch(filter: string, seen: (key: string, revision: number, live: boolean) => void): Promise<void> {
    let stopped = false;
    let current: { stop(): void } | null = null;
    this.watches.push({
      stop: () => {
        stopped = true;
        current?.stop();
      },
    });
    const open = () => retryWhileTransient(`watching ${filter}`, () => this.store.bucket.watch({ key: filter }));
    const first = await open();
    current = first;
    void (async () => {
      let iterator = first;
      while (!stopped) {
        try {
          for await (const entry of iterator) seen(entry.key, entry.revision, entry.operation === 'PUT');
        } catch (error) {
          if (!stopped) this.logger.warn(`the watch of ${filter} ended: ${(error as Error).message}`);
        }
        if (stopped) break;
        await sleep(500);
        iterator = await open().catch(() => iterator);
        current = iterator;
      }
    })();
  }

  private async take(partition: number, lease: Lease): Promise<void> {
    let position: number;
    try {
      position = await this.store.position(partition);
    } catch (error) {
      await lease.release();
      throw error;
    }
    // Taken back after losing it: everything up to where its own handlers got is done, whoever held it meanwhile
    // (another holder's position is higher if it went further).
    const before = this.lost.get(partition);
    this.lost.delete(partition);
    if (before) position = Math.max(position, this.positionOf(before));
    const held: Held = { index: partition, lease, passed: position, pending: new Set(), abandoned: new Set(), leaving: false, written: position, writtenAt: Date.now() };
    this.held.set(partition, held);
    this.stats.partitions = this.partitions;
    lease.signal.addEventListener('abort', () => {
      if (this.held.get(partition) !== held || held.leaving) return;
      // Lost, not handed over: its messages in flight finish, nothing more of it is started here, nor its position written.
      held.leaving = true;
      this.held.delete(partition);
      this.lost.set(partition, held);
      this.stats.partitions = this.partitions;
      this.logger.warn(`lost partition ${partition} of ${this.spec.durable}: ${(lease.signal.reason as Error).message}`);
    });
    this.logger.log(`took partition ${partition} of ${this.spec.durable} at stream sequence ${position}`);
    // The reader is past where this partition starts: it starts again from there.
    if (this.readFrom !== null && position < this.lastRead) this.restartReader();
    this.wake?.();
  }

  /** Stops taking the partition's messages, waits for those in flight, writes its position and releases it. */
  private async handOver(held: Held): Promise<void> {
    if (held.leaving) return;
    held.leaving = true;
    this.logger.log(`handing partition ${held.index} of ${this.spec.durable} over`);
    // Released only once nothing of it is in hand (the lease renews itself meanwhile), or once it is lost anyway:
    // the next holder never handles a message this replica still handles.
    while (held.pending.size > 0 && held.lease.held) await sleep(10);
    const position = this.positionOf(held);
    try {
      if (held.lease.held) await this.store.setPosition(held.index, position);
    } catch (error) {
      this.logger.warn(`cannot write the position of partition ${held.index}: ${(error as Error).message}`);
    }
    await held.lease.release();
    if (this.held.get(held.index) === held) this.held.delete(held.index);
    this.stats.partitions = this.partitions;
    this.logger.log(`handed partition ${held.index} of ${this.spec.durable} over at stream sequence ${position}`);
  }

  private async writePositions(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      await this.writeEach();
    } finally {
      this.writing = false;
    }
  }

  private async writeEach(): Promise<void> {
    const quiet = Date.now() - this.movedAt >= POSITION_INTERVAL_MS;
    for (const held of this.held.values()) {
      if (held.leaving || !held.lease.held) continue;
      const position = this.positionOf(held);
      if (position <= held.written || (!quiet && Date.now() - held.writtenAt < this.writeEveryMs)) continue;
      try {
        await this.store.setPosition(held.index, position);
        held.written = Math.max(held.written, position);
        held.writtenAt = Date.now();
      } catch {
        // Written at the next tick; a holder that dies meanwhile costs its successor some messages done again.
      }
    }
  }

  /** Where the reader starts: after the lowest point any held partition (or the state of every partition) has read to. */
  private startFrom(): number | null {
    const from = [...this.held.values()].filter((held) => !held.leaving).map((held) => held.passed + 1);
    if (this.wantsBroadcasts) from.push(this.broadcastPassed + 1);
    return from.length > 0 ? Math.min(...from) : null;
  }

  private restartReader(): void {
    this.restarting = true;
    this.messages?.stop();
  }

  private async read(): Promise<void> {
    const { jetstream, topology } = this.client;
    let failures = 0;
    while (!this.stopping) {
      const from = this.startFrom();
      if (from === null) {
        // Nothing to read until a partition is taken.
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      this.restarting = false;
      this.readFrom = from;
      this.stats.readerFrom = from;
      this.lastRead = from - 1;
      try {
        const consumer = (this.consumer = await jetstream.consumers.get(this.spec.stream(topology), {
          filter_subjects: this.spec.filterSubject(topology),
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: from,
          // A killed replica's reader leaves the server soon (the trimmer counts what every consumer has read).
          inactive_threshold: READER_INACTIVE_MS,
        }));
        this.messages = await consumer.consume({ max_messages: Math.min(1_024, this.spec.concurrency), expires: 5_000 });
        // A partition taken while the reader started may need messages before its start.
        if (this.restarting) continue;
        this.reading = true;
        this.movedAt = Date.now();
        failures = 0;
        for await (const message of this.messages) {
          if (this.restarting || this.stopping) break;
          this.movedAt = Date.now();
          this.lastRead = message.seq;
          this.stats.readTo = Math.max(this.stats.readTo, message.seq);
          this.dispatch(message);
          await this.inFlight.below(this.spec.concurrency);
        }
      } catch (error) {
        if (!this.stopping) this.logger.warn(`reading ${this.spec.durable} interrupted: ${(error as Error).message}`);
      } finally {
        this.reading = false;
        this.readFrom = null;
        this.messages?.stop();
        // Not read any more: gone from the server now rather than after its inactivity threshold.
        void this.consumer?.delete().catch(() => undefined);
      }
      if (this.stopping) break;
      if (this.restarting) continue;
      failures += 1;
      await sleep(backoffMs(failures, 200, 5_000));
    }
  }

  /** Restarts a reader that stands still while the stream holds messages after it (a cluster that lost its server). */
  private async checkReader(): Promise<void> {
    const { consumer, messages } = this;
    if (!this.reading || !consumer || !messages || !this.client.connected || Date.now() - this.movedAt < STALL_MS) return;
    const stalled = await consumer.info().then(
      (info) => info.num_pending > 0,
      () => true,
    );
    if (!stalled || this.messages !== messages) return;
    this.logger.warn(`the reader of ${this.spec.durable} stood still for ${Math.round((Date.now() - this.movedAt) / 1_000)} s with messages waiting; restarting it`);
    this.restartReader();
  }

  private dispatch(message: JsMsg): void {
    const key = this.spec.partitionKey!(message, this.client.topology);
    if (key === null) {
      // Owned by partition 0's holder, which may have applied it already before it took the partition (then it writes it now).
      const zero = this.held.get(0);
      const owner = zero !== undefined && !zero.leaving && message.seq > zero.passed;
      if (owner || message.seq > this.broadcastPassed) this.begin(message, owner ? zero : null, null, owner);
      this.broadcastPassed = Math.max(this.broadcastPassed, message.seq);
    } else {
      const held = this.held.get(partitionOf(key, this.count));
      if (held && !held.leaving && message.seq > held.passed) this.begin(message, held, key, true);
    }
    // The messages of every other partition held here up to this one were none of theirs.
    for (const held of this.held.values()) if (!held.leaving && held.passed < message.seq) held.passed = message.seq;
    // Nor was any a message of every partition that was not dispatched above: a reader that starts again (a
    // partition taken) need not go back to the last lifecycle message, which may be hours of stream back.
    this.broadcastPassed = Math.max(this.broadcastPassed, message.seq);
  }

  private begin(message: JsMsg, held: Held | null, key: string | null, owner: boolean): void {
    held?.pending.add(message.seq);
    // An earlier message of the key left to the next holder: this one is too, or it would be stored before it.
    const turnAfter = (chain: string | null): Promise<void> => {
      const previous = chain !== null ? this.chains.get(chain) : undefined;
      // Left to the next holder by this holding: so is this one. By an earlier holding of the partition (taken
      // back since): this one is that message or a later one, read again, and goes on once it has settled.
      const sameHolding = previous?.held === held;
      const turn = previous ? previous.next.then((done) => (done || !sameHolding ? undefined : Promise.reject(new Abandoned()))) : Promise.resolve();
      turn.catch(() => undefined);
      return turn;
    };
    let chain = key;
    let turn = turnAfter(chain);
    let ordered = false;
    // The next message of the key goes on once this one has its outcome, or passed its turn.
    let passed!: (done: boolean) => void;
    const next = new Promise<boolean>((resolve) => (passed = resolve));
    const context: HandleContext = {
      owner,
      signal: held?.lease.signal ?? NEVER_ABORTED,
      get turn() {
        return turn;
      },
      orderBy: (finer) => {
        // The first call decides (a retry calls it again); after the handler's first await it is too late to be in order.
        if (ordered || key === null) return turn;
        ordered = true;
        chain = `${key}\n${finer}`;
        turn = turnAfter(chain);
        return turn;
      },
      passTurn: () => passed(true),
    };
    // The handler's synchronous start runs here, in stream order: an orderBy it makes is registered before the next message's.
    const task = this.process(message, held, context).then(
      (done) => {
        if (!done) held?.abandoned.add(message.seq);
        passed(done);
      },
      () => {
        held?.abandoned.add(message.seq);
        passed(false);
      },
    );
    const settled = task.finally(() => held?.pending.delete(message.seq));
    if (chain !== null) {
      // Never before its own turn: a message that passes its turn (or settles) before the key's earlier ones had
      // theirs would let the next overtake them. One whose turn was abandoned leaves the next to be abandoned too.
      const entry = { held, next: turn.then(() => next, () => false) };
      this.chains.set(chain, entry);
      const key = chain;
      void entry.next.then(() => {
        if (this.chains.get(key) === entry) this.chains.delete(key);
      });
    }
    this.inFlight.add(settled);
  }

  /** Handles the message until it is done or dead-lettered (true), or its partition is no longer held here (false). */
  private async process(message: JsMsg, held: Held | null, context: HandleContext): Promise<boolean> {
    let attempts = 0;
    const failures = { failuresWhileReachable: 0 };
    for (;;) {
      attempts += 1;
      let outcome: Outcome;
      try {
        outcome = await this.handler.handle(message, context);
      } catch (error) {
        // Its partition lost meanwhile (the handler saw context.signal): the next holder handles it again.
        if (error instanceof Abandoned || (held && !held.lease.held)) return false;
        outcome = judgeFailure(error as Error, failures, this.dependenciesReachable(), this.spec.maxAttempts, attempts);
      }
      if (outcome.kind === 'done') {
        this.stats.done += 1;
        this.stalledSince = null;
        return true;
      }
      if (outcome.kind === 'skip') {
        try {
          await deadLetter(this.client, this.spec.durable, message, outcome.reason, outcome.detail);
          this.deadLettered(outcome.reason);
          this.stats.skipped += 1;
          this.stalledSince = null;
          this.logger.warn(`dead-lettered message ${message.seq} from ${message.subject}: ${outcome.reason}: ${outcome.detail}`, ...eventLog(this.spec.eventIdOf(message)));
          return true;
        } catch (error) {
          outcome = Outcome.retry(`cannot record the dead letter: ${(error as Error).message}`, 1_000);
        }
      }
      if (outcome.kind !== 'retry') continue;
      this.stalledSince ??= Date.now();
      this.stats.retried += 1;
      const delay = retryDelayOf(outcome, attempts);
      this.logger.warn(`retrying message ${message.seq} in ${delay} ms: ${outcome.reason}`, ...eventLog(this.spec.eventIdOf(message)));
      await sleep(delay);
      // Its partition was lost or handed over meanwhile: its next holder handles it again from the partition's position.
      if (held && !held.lease.held) return false;
    }
  }
}

const NEVER_ABORTED = new AbortController().signal;

/** An earlier message of the same key was left to the partition's next holder. */
class Abandoned extends Error {
  constructor() {
    super('an earlier message of the same key was left to the next holder');
  }
}
