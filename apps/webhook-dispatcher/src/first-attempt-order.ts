import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import { ConsumerHost, DURABLES, NatsClient, PartitionedRunner } from '@app/messaging';
import { withDeadline } from '@app/runtime';
import { PROJECTOR_DURABLE } from './delivery-changes.consumer.js';
import { DeliveryStore } from './delivery-store.js';

/** How long a look at the ledger (its projection catching up, a query) may take before order is given up on for it. */
const LEDGER_WAIT_MS = 5_000;
/** How often the projection's progress is looked at meanwhile. */
const PROGRESS_EVERY_MS = 25;

/**
 * An endpoint's first attempts on this replica: `direct`, its fresh
 * deliveries take their lanes; `queued`, first attempts wait in the ledger
 * and its fresh deliveries are parked behind them; `leaving`, the ledger is
 * being checked empty of them, and its fresh deliveries wait for the answer.
 */
interface Queue {
  state: 'direct' | 'queued' | 'leaving';
  /** The partition's tenure it was learnt in (its lease's signal); null when the scheduler's look found it. */
  signal: AbortSignal | null;
  /** Parks of its fresh deliveries decided, not yet stored in the attempts stream. */
  recording: number;
  /** Parks decided, ever: a park decided while the queue was leaving keeps it. */
  parks: number;
  /** The attempts stream's sequence of its last park stored. */
  lastSeq: number;
  /** While leaving: resolves once it is decided. */
  left: Promise<void> | null;
}

/**
 * Keeps a webhook endpoint's first attempts in the order its deliveries were
 * stored when some of them wait in the ledger. A fresh delivery of an endpoint
 * that is busy (a slow receiver) or paused is parked with its place (its
 * message's sequence, `first_seq`); from then on the holder of the
 * endpoint's partition parks every fresh delivery of it behind those
 * (`behind`), and the retry scheduler sends them from the ledger in their
 * order (DeliveryStore.claimFirstAttempts). Once none waits there, and every
 * park recorded has reached the ledger, fresh deliveries take their lanes
 * again. A replica that takes a partition learns from the ledger which
 * endpoints have first attempts waiting before it sends any of the
 * partition's fresh deliveries; should the ledger not answer within
 * LEDGER_WAIT_MS (PostgreSQL away), it sends them, and order is kept again
 * once the scheduler's look finds the waiting ones.
 */
@Injectable()
export class FirstAttemptOrder {
  private readonly logger = new Logger(FirstAttemptOrder.name);
  private readonly queues = new Map<string, Queue>();
  /** The partitioned reader of the fresh deliveries. */
  private runner: PartitionedRunner | undefined;
  /** What the ledger said when a partition was taken (once per tenure). */
  private readonly looks = new WeakMap<AbortSignal, Promise<Set<string>>>();

  constructor(
    private readonly nats: NatsClient,
    private readonly store: DeliveryStore,
    private readonly host: ConsumerHost,
  ) {}

  /**
   * Whether a fresh delivery of the endpoint goes behind first attempts
   * waiting in the ledger (parked, not sent). Asked in the delivery's turn;
   * `signal` is its partition's tenure (none outside a partitioned reader:
   * no order across replicas to keep).
   */
  async behind(endpointId: string, signal: AbortSignal | undefined): Promise<boolean> {
    if (!signal) return false;
    for (;;) {
      let queue = this.current(endpointId, signal);
      if (!queue) {
        const waiting = await this.look(signal);
        queue = this.current(endpointId, signal) ?? this.start(endpointId, waiting.has(endpointId) ? 'queued' : 'direct', signal);
      }
      if (queue.state === 'leaving') {
        await queue.left;
        continue;
      }
      return queue.state === 'queued';
    }
  }

  /**
   * A fresh delivery of the endpoint is being parked before its first
   * attempt: later ones queue behind it. Called in its turn; returns what to
   * tell once the park is stored (its sequence in the attempts stream, 0 if it could not be).
   */
  parking(endpointId: string, signal: AbortSignal): (seq: number) => void {
    const queue = this.current(endpointId, signal) ?? this.start(endpointId, 'queued', signal);
    if (queue.state === 'direct') queue.state = 'queued';
    queue.recording += 1;
    queue.parks += 1;
    return (seq) => {
      queue.recording = Math.max(0, queue.recording - 1);
      queue.lastSeq = Math.max(queue.lastSeq, seq);
    };
  }

  /** Endpoints whose first attempts wait in the ledger for this replica to send them (of partitions it still holds). */
  queued(): string[] {
    const queued: string[] = [];
    for (const [endpointId, queue] of this.queues) {
      const gone = queue.signal ? queue.signal.aborted : !this.holds(endpointId);
      if (gone) this.queues.delete(endpointId);
      else if (queue.state === 'queued') queued.push(endpointId);
    }
    return queued;
  }

  /** Whether this replica holds the endpoint's partition (and may send its first attempts). */
  holds(endpointId: string): boolean {
    // Found once the consumers have started.
    this.runner ??= this.host.runners.find((candidate): candidate is PartitionedRunner => candidate instanceof PartitionedRunner && candidate.durable === DURABLES.webhookDispatcher);
    return this.runner?.holds(endpointId) ?? false;
  }

  /**
   * The scheduler's look: endpoints with first attempts waiting in the
   * ledger. Those of this replica's partitions queue (parked by an earlier
   * holder, or missed when the ledger did not answer at the partition's take).
   */
  found(endpointIds: string[]): void {
    for (const endpointId of endpointIds) {
      if (!this.holds(endpointId)) continue;
      const queue = this.queues.get(endpointId);
      if (!queue || queue.signal?.aborted) this.start(endpointId, 'queued', null);
      else if (queue.state === 'direct') queue.state = 'queued';
    }
  }

  /**
   * Called when no first attempt of the endpoint waits in the ledger: its
   * fresh deliveries wait while every park recorded reaches the ledger and
   * it is checked again; then they take their lanes.
   */
  async tryLeave(endpointId: string): Promise<void> {
    const queue = this.queues.get(endpointId);
    if (!queue || queue.state !== 'queued') return;
    queue.state = 'leaving';
    const parks = queue.parks;
    let decided!: () => void;
    queue.left = new Promise((resolve) => (decided = resolve));
    try {
      const deadline = Date.now() + LEDGER_WAIT_MS;
      while (queue.recording > 0) {
        if (Date.now() > deadline) throw new Error('parks are still being recorded');
        await sleep(PROGRESS_EVERY_MS);
      }
      await this.projected(queue.lastSeq);
      const waiting = await withDeadline(this.store.hasFirstAttempts(endpointId), LEDGER_WAIT_MS);
      queue.state = waiting || queue.parks !== parks ? 'queued' : 'direct';
      // Found by the scheduler's look, never bound to a tenure: the next fresh delivery asks its tenure's look.
      if (queue.state === 'direct' && queue.signal === null) this.queues.delete(endpointId);
    } catch (error) {
      queue.state = 'queued';
      this.logger.debug(`first attempts of ${endpointId} stay queued: ${(error as Error).message}`);
    } finally {
      queue.left = null;
      decided();
    }
  }

  /** The endpoint's queue as learnt in this tenure of its partition (or found queued by the scheduler's look while it is held). */
  private current(endpointId: string, signal: AbortSignal): Queue | undefined {
    const queue = this.queues.get(endpointId);
    if (!queue) return undefined;
    if (queue.signal === null && queue.state !== 'direct') queue.signal = signal;
    return queue.signal === signal ? queue : undefined;
  }

  private start(endpointId: string, state: Queue['state'], signal: AbortSignal | null): Queue {
    const queue: Queue = { state, signal, recording: 0, parks: 0, lastSeq: 0, left: null };
    this.queues.set(endpointId, queue);
    return queue;
  }

  /** What the ledger says, once per tenure of a partition: the endpoints with first attempts waiting. */
  private look(signal: AbortSignal): Promise<Set<string>> {
    let look = this.looks.get(signal);
    if (!look) {
      look = this.lookUp();
      this.looks.set(signal, look);
    }
    return look;
  }

  private async lookUp(): Promise<Set<string>> {
    try {
      return await withDeadline(
        (async () => {
          // Every park recorded so far (by this partition's earlier holder too) is in the ledger first. Should the
          // projection lag, what it has written is still asked: only the latest parks may be missed, until the next look.
          const info = await this.nats.manager.streams.info(this.nats.topology.streams.attempts);
          const caughtUp = this.projected(info.state.last_seq, LEDGER_WAIT_MS / 2).catch((error: Error) => {
            this.logger.warn(`looking at the ledger before it caught up: ${error.message}; first attempts parked last may be overtaken until the next look`);
          });
          await caughtUp;
          return new Set(await this.store.endpointsWithFirstAttempts());
        })(),
        LEDGER_WAIT_MS,
      );
    } catch (error) {
      this.logger.warn(`cannot tell which endpoints have first attempts waiting in the ledger (${(error as Error).message}): fresh deliveries may overtake them until they are found`);
      return new Set();
    }
  }

  /** Resolves once the ledger has every change stored in the attempts stream up to `seq`; rejects after `waitMs`. */
  private async projected(seq: number, waitMs = LEDGER_WAIT_MS): Promise<void> {
    if (seq === 0) return;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const info = await this.nats.manager.consumers.info(this.nats.topology.streams.attempts, PROJECTOR_DURABLE);
      if (info.ack_floor.stream_seq >= seq || (info.num_pending === 0 && info.num_ack_pending === 0)) return;
      if (Date.now() > deadline) throw new Error(`the ledger is behind the attempts stream (at ${info.ack_floor.stream_seq} of ${seq})`);
      await sleep(PROGRESS_EVERY_MS);
    }
  }
}
