import { Logger } from '@nestjs/common';
import { AckPolicy, DeliverPolicy, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { ConsumerSpec, MessageHandler } from './consumer.js';
import type { NatsClient } from './nats-connection.js';
import { Outcome } from './outcome.js';
import { publishDurably } from './publisher.js';
import { Headers } from './topology.js';

const UNEXPECTED_ERROR_RETRY_MS = 1_000;
const MAX_UNEXPECTED_ERROR_RETRY_MS = 30_000;

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
 */
export class ConsumerRunner {
  private readonly logger: Logger;
  private messages: ConsumerMessages | null = null;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  readonly stats: ConsumerStats = { done: 0, skipped: 0, retried: 0 };

  constructor(
    private readonly client: NatsClient,
    private readonly spec: Required<ConsumerSpec>,
    private readonly handler: MessageHandler,
  ) {
    this.logger = new Logger(`Consumer:${spec.durable}`);
  }

  get durable(): string {
    return this.spec.durable;
  }

  static withDefaults(spec: ConsumerSpec): Required<ConsumerSpec> {
    return { concurrency: 256, maxAttempts: 10, ackWaitMs: 30_000, ...spec };
  }

  /** Creates or updates the durable consumer, then starts pulling. */
  async start(): Promise<void> {
    const consumer = await this.ensureConsumer();
    this.loop = this.run(consumer);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.messages?.stop();
    await this.loop;
    await Promise.all(this.inFlight);
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
      // Redelivery is bounded by the runner (maxAttempts → dead letter), not the server,
      // so that a message is never silently dropped after max_deliver.
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
      await manager.consumers.add(stream, config);
    }
    return jetstream.consumers.get(stream, this.spec.durable);
  }

  private async run(consumer: Consumer): Promise<void> {
    while (!this.stopping) {
      try {
        this.messages = await consumer.consume({ max_messages: this.spec.concurrency });
        for await (const message of this.messages) {
          const task = this.process(message).finally(() => this.inFlight.delete(task));
          this.inFlight.add(task);
          if (this.inFlight.size >= this.spec.concurrency) {
            await Promise.race(this.inFlight);
          }
        }
      } catch (error) {
        if (this.stopping) break;
        this.logger.warn(`consume interrupted, resuming: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, UNEXPECTED_ERROR_RETRY_MS));
      }
    }
  }

  private async process(message: JsMsg): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await this.handler.handle(message);
    } catch (error) {
      // A bug or an unexpected failure: treat as transient, bounded by maxAttempts below.
      const backoff = Math.min(UNEXPECTED_ERROR_RETRY_MS * 2 ** (message.info.deliveryCount - 1), MAX_UNEXPECTED_ERROR_RETRY_MS);
      outcome = Outcome.retry(`unexpected error: ${(error as Error).message}`, backoff);
    }
    if (outcome.kind === 'retry' && message.info.deliveryCount >= this.spec.maxAttempts) {
      outcome = Outcome.skip(`gave up after ${message.info.deliveryCount} attempts: ${outcome.reason}`);
    }
    try {
      await this.settle(message, outcome);
    } catch (error) {
      // Not acked: the server redelivers after ack_wait, so nothing is lost.
      this.logger.warn(`could not settle message ${message.seq}: ${(error as Error).message}`);
    }
  }

  private async settle(message: JsMsg, outcome: Outcome): Promise<void> {
    switch (outcome.kind) {
      case 'done':
        message.ack();
        this.stats.done += 1;
        return;
      case 'retry':
        // nak with a delay keeps the message in our ack window for that long;
        // fine for the seconds a transient failure lasts (long waits are stored elsewhere).
        message.nak(outcome.delayMs);
        this.stats.retried += 1;
        this.logger.warn(`retrying message ${message.seq} in ${outcome.delayMs} ms: ${outcome.reason}`);
        return;
      case 'skip':
        await this.deadLetter(message, outcome.reason);
        message.ack();
        this.stats.skipped += 1;
        return;
    }
  }

  private async deadLetter(message: JsMsg, reason: string): Promise<void> {
    const { topology } = this.client;
    await publishDurably(this.client, topology.deadLetters(this.spec.durable), message.data, {
      messageId: `${this.spec.durable}:${message.info.stream}:${message.seq}`,
      headers: {
        [Headers.reason]: reason.slice(0, 1_000),
        [Headers.sourceSubject]: message.subject,
        [Headers.sourceSequence]: String(message.seq),
        [Headers.consumer]: this.spec.durable,
      },
    });
    this.logger.warn(`dead-lettered message ${message.seq} from ${message.subject}: ${reason}`);
  }
}
