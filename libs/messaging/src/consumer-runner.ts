import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { backoffMs, eventLog, InFlight, isTransientFailure } from '@app/runtime';
import { UNPARTITIONED, type ConsumerSpec, type MessageHandler, type ResolvedSpec } from './consumer.js';
import type { NatsClient } from './nats-connection.js';
import { DeadLetterReason, Outcome } from './outcome.js';
import { publishDurably } from './publisher.js';
import { DEAD_LETTER_HEADERS, Headers } from './topology.js';

/** How often the runner checks that its durable consumer still exists on the server. */
const WATCHDOG_INTERVAL_MS = 5_000;
/** How long one pull request lives on the server. */
const PULL_EXPIRES_MS = 5_000;
/** The longest a message waits between two tries while a dependency is away. */
const MAX_RETRY_DELAY_MS = 30_000;

/** A message delivered here and not yet acked. */
interface Unsettled {
  /** When it was last delivered here. */
  seenAt: number;
  /**
   * Its newest delivery while a handler runs on it, else null. A message the
   * server hands out again while its handler still runs (its ack wait passed
   * while NATS was away) is not handled twice: the running handler settles
   * the newest delivery.
   */
  handling: JsMsg | null;
  /** Failures that happened while every dependency was reachable. */
  failuresWhileReachable: number;
}

/** Counts of outcomes, for metrics and tests. */
export interface ConsumerStats {
  done: number;
  skipped: number;
  retried: number;
}

/**
 * Runs one durable consumer: pulls messages, runs the handler on up to
 * `concurrency` of them at once (started in arrival order, so publishes they
 * make are stored in that order) and acks each once its outcome is durable.
 *
 * A dependency outage is not a poison message: a transient failure (a
 * `retry` outcome, or an error `isTransientFailure` recognises) is retried
 * with capped backoff for as long as the outage lasts, and only an error that
 * persists while every dependency of the app is reachable is dead-lettered.
 * The runner supervises itself: when the consumer is deleted on the server
 * or the pull ends, it re-creates the consumer and resumes, and `healthy`
 * is false meanwhile (the app's readiness).
 */
export class ConsumerRunner {
  private readonly logger: Logger;
  private messages: ConsumerMessages | null = null;
  private stopping = false;
  private consuming = false;
  private loop: Promise<void> | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private readonly inFlight = new InFlight();
  /** Set by a transient failure, cleared by the next success: while set, the consumer makes no progress. */
  private stalledSince: number | null = null;
  /** Messages delivered here and not yet acked (being handled, or waiting for a retry), by stream sequence. */
  private readonly unsettled = new Map<number, Unsettled>();
  private highestSeen = 0;
  readonly stats: ConsumerStats = { done: 0, skipped: 0, retried: 0 };

  constructor(
    private readonly client: NatsClient,
    private readonly spec: ResolvedSpec,
    private readonly handler: MessageHandler,
    /** True when every dependency of the app is reachable; a failure then is the message's own. */
    private readonly dependenciesReachable: () => boolean = () => client.connected,
    /** Told of every message recorded in the dead letters (the app's metrics). */
    private readonly deadLettered: (reason: DeadLetterReason) => void = () => undefined,
  ) {
    this.logger = new Logger(`Consumer:${spec.durable}`);
  }

  get durable(): string {
    return this.spec.durable;
  }

  /** Pulling from an existing consumer, and not stuck on a dependency that is away. */
  get healthy(): boolean {
    return this.consuming && this.stalledSince === null;
  }

  static withDefaults(spec: ConsumerSpec): ResolvedSpec {
    return { concurrency: 256, maxAttempts: 10, ackWaitMs: 30_000, eventIdOf: eventIdFromHeader, ...spec };
  }

  /**
   * Starts the supervised pull loop. Creating the consumer is retried in the
   * loop (a busy server may take seconds), so a slow start never ends the process.
   */
  async start(): Promise<void> {
    this.loop = this.run();
    this.watchdog = setInterval(() => void this.checkConsumer(), WATCHDOG_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.messages?.stop();
    await this.loop;
    await this.inFlight.settled();
  }

  private async ensureConsumer(): Promise<Consumer> {
    const { manager, jetstream, topology } = this.client;
    const stream = this.spec.stream(topology);
    const config = {
      durable_name: this.spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: this.spec.filterSubject(topology),
      ack_wait: nanos(this.spec.ackWaitMs),
      // Redelivery is bounded by the runner (a persistent failure → dead letter), not the server,
      // so that a message is never silently dropped after max_deliver, and an outage never drops one.
      max_deliver: -1,
      max_ack_pending: this.spec.concurrency * 4,
    };
    try {
      await manager.consumers.info(stream, this.spec.durable);
      await manager.consumers.update(stream, this.spec.durable, {
        ack_wait: config.ack_wait,
        max_ack_pending: config.max_ack_pending,
        max_deliver: config.max_deliver,
      });
    } catch (error) {
      if (!/consumer not found/i.test((error as Error).message)) {
        throw error;
      }
      if (this.highestSeen > 0) {
        // It was deleted under us: start again from the oldest message this replica has not
        // settled, not from the stream's start (which would send everything again) nor its end
        // (which would skip what is waiting). Another replica's unsettled messages below that
        // point come back only by replay (docs/reliability.md).
        const from = this.unsettled.size > 0 ? Math.min(...this.unsettled.keys()) : this.highestSeen + 1;
        this.logger.warn(`re-creating consumer ${this.spec.durable} from stream sequence ${from}`);
        await manager.consumers.add(stream, { ...config, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from });
      } else {
        await manager.consumers.add(stream, config);
      }
    }
    return jetstream.consumers.get(stream, this.spec.durable);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const consumer = await this.ensureConsumer();
        // abort_on_missing_resource: a deleted consumer ends the pull here, and the loop re-creates it.
        // expires: the server keeps handing messages to a pull request of a replica that was killed
        // until the request expires (the messages come back only after ack_wait); short-lived
        // requests bound that to seconds, for one small request every few seconds when idle.
        this.messages = await consumer.consume({ max_messages: this.spec.concurrency, expires: PULL_EXPIRES_MS, abort_on_missing_resource: true });
        this.consuming = true;
        failures = 0;
        for await (const message of this.messages) {
          this.inFlight.add(this.process(message));
          await this.inFlight.below(this.spec.concurrency);
        }
        if (!this.stopping) this.logger.warn('the pull ended; re-creating the consumer');
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn(`cannot consume, retrying: ${(error as Error).message}`);
      } finally {
        this.consuming = false;
      }
      if (!this.stopping) {
        failures += 1;
        await sleep(backoffMs(failures, 200, 5_000));
      }
    }
  }

  /** Ends the pull when the durable consumer is gone from the server (deleted by hand, or with its stream). */
  private async checkConsumer(): Promise<void> {
    // A message retried here may have been settled by another replica since: forget it after a while.
    const forgetBefore = Date.now() - (this.spec.ackWaitMs + 2 * MAX_RETRY_DELAY_MS);
    for (const [seq, entry] of this.unsettled) {
      if (entry.seenAt < forgetBefore && !entry.handling) this.unsettled.delete(seq);
    }
    if (!this.consuming || !this.client.connected) return;
    try {
      await this.client.manager.consumers.info(this.spec.stream(this.client.topology), this.spec.durable);
    } catch (error) {
      if (/consumer not found|stream not found/i.test((error as Error).message)) {
        this.logger.warn(`consumer ${this.spec.durable} is gone from the server; re-creating it`);
        this.consuming = false;
        this.messages?.stop();
      }
    }
  }

  private async process(delivered: JsMsg): Promise<void> {
    this.highestSeen = Math.max(this.highestSeen, delivered.seq);
    const entry = this.unsettled.get(delivered.seq) ?? { seenAt: 0, handling: null, failuresWhileReachable: 0 };
    this.unsettled.set(delivered.seq, entry);
    entry.seenAt = Date.now();
    if (entry.handling) {
      // Handed out again while still being handled: the handler that runs settles this newer delivery.
      entry.handling = delivered;
      delivered.working();
      return;
    }
    entry.handling = delivered;
    let outcome: Outcome;
    try {
      outcome = await this.handler.handle(delivered, UNPARTITIONED);
    } catch (error) {
      outcome = judgeFailure(error as Error, entry, this.dependenciesReachable(), this.spec.maxAttempts, delivered.info.deliveryCount);
      if (outcome.kind === 'retry' && !isTransientFailure(error as Error)) {
        this.logger.warn(`message ${delivered.seq} failed (attempt ${delivered.info.deliveryCount}): ${(error as Error).message}`, ...eventLog(this.spec.eventIdOf(delivered)));
      }
    }
    const message = entry.handling ?? delivered;
    entry.handling = null;
    if (outcome.kind === 'retry') {
      this.stalledSince ??= Date.now();
      // The handler's delay, or more as the failure persists: capped, with no give-up time.
      outcome = Outcome.retry(outcome.reason, retryDelayOf(outcome, message.info.deliveryCount));
    } else {
      this.stalledSince = null;
    }
    try {
      await this.settle(message, outcome);
    } catch (error) {
      // Not acked: the server redelivers after ack_wait, so nothing is lost.
      this.logger.warn(`could not settle message ${message.seq}: ${(error as Error).message}`, ...eventLog(this.spec.eventIdOf(message)));
    }
  }

  private async settle(message: JsMsg, outcome: Outcome): Promise<void> {
    switch (outcome.kind) {
      case 'done':
        message.ack();
        this.unsettled.delete(message.seq);
        this.stats.done += 1;
        return;
      case 'retry':
        // nak with a delay keeps the message in our ack window for that long;
        // fine for the seconds a transient failure lasts (long waits are stored elsewhere).
        message.nak(outcome.delayMs);
        this.stats.retried += 1;
        this.logger.warn(`retrying message ${message.seq} in ${outcome.delayMs} ms: ${outcome.reason}`, ...eventLog(this.spec.eventIdOf(message)));
        return;
      case 'skip':
        await this.deadLetter(message, outcome.reason, outcome.detail);
        message.ack();
        this.unsettled.delete(message.seq);
        this.stats.skipped += 1;
        return;
    }
  }

  private async deadLetter(message: JsMsg, reason: DeadLetterReason, detail: string): Promise<void> {
    await deadLetter(this.client, this.spec.durable, message, reason, detail);
    this.deadLettered(reason);
    this.logger.warn(`dead-lettered message ${message.seq} from ${message.subject}: ${reason}: ${detail}`, ...eventLog(this.spec.eventIdOf(message)));
  }
}

/**
 * What a handler's thrown error comes to: an outage (isTransientFailure) is
 * retried for as long as it lasts; anything else is the message's own
 * problem only once it persisted `maxAttempts` times while every dependency
 * was reachable (`failures` counts those, and is counted up here).
 * `attempt`: the message's tries so far, for the backoff.
 */
export function judgeFailure(error: Error, failures: { failuresWhileReachable: number }, reachable: boolean, maxAttempts: number, attempt: number): Outcome {
  if (isTransientFailure(error)) return Outcome.retry(`dependency unavailable: ${error.message}`, 0);
  if (reachable) {
    const count = (failures.failuresWhileReachable += 1);
    if (count >= maxAttempts) return Outcome.skip(DeadLetterReason.HANDLER_FAILED, `failed ${count} times while every dependency was reachable: ${error.message}`);
  }
  return Outcome.retry(`unexpected error: ${error.message}`, backoffMs(attempt, 1_000));
}

/** How long a retry waits: the handler's delay, or more as the failure persists (`attempt`), capped; never a give-up time. */
export function retryDelayOf(outcome: Extract<Outcome, { kind: 'retry' }>, attempt: number): number {
  return Math.min(outcome.maxDelayMs ?? MAX_RETRY_DELAY_MS, Math.max(outcome.delayMs, backoffMs(attempt)));
}

/**
 * Records `message` in the dead letters (`<p>.dead.<durable>`) with its
 * reason, keeping its own headers; idempotent (the message id is the
 * consumer's and the stream sequence's).
 */
export async function deadLetter(client: NatsClient, durable: string, message: JsMsg, reason: DeadLetterReason, detail: string): Promise<void> {
  await publishDurably(client, client.topology.deadLetters(durable), message.data, {
    messageId: `${durable}:${message.info.stream}:${message.seq}`,
    headers: {
      // The original's own headers (Es-Event-Id, the routing fields…), so that a resubmission carries what its
      // consumer needs; the dead-letter headers below are set after them, so the original cannot pass for them.
      ...keptHeaders(message),
      [Headers.reason]: reason,
      [Headers.detail]: detail.slice(0, 1_000).replaceAll('\r', ' ').replaceAll('\n', ' '),
      [Headers.sourceSubject]: message.subject,
      [Headers.sourceSequence]: String(message.seq),
      [Headers.consumer]: durable,
    },
  });
}

/**
 * A message's headers as a dead letter keeps them: all but the server's
 * (`Nats-*`: a message id or an expectation would refuse the resubmission)
 * and the dead-letter headers (DEAD_LETTER_HEADERS), whose names compare
 * case-insensitively. The first value of each.
 */
export function keptHeaders(message: Pick<JsMsg, 'headers'>): Record<string, string> {
  const kept: Record<string, string> = {};
  if (!message.headers) return kept;
  for (const name of message.headers.keys()) {
    const lower = name.toLowerCase();
    if (lower.startsWith('nats-') || DEAD_LETTER_HEADERS.has(lower)) continue;
    kept[name] = message.headers.get(name);
  }
  return kept;
}

/** The event a message is about, when the data path set its header (an agent's own message has none). */
function eventIdFromHeader(message: JsMsg): string | undefined {
  return message.headers?.get(Headers.eventId) || undefined;
}
