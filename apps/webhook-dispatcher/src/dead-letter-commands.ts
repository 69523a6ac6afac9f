import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { MAX_DEAD_LETTERS_PER_COMMAND, parseDeadLetterCommand, type DeadLetterCommand, type DeadLetterCommandAnswer } from '@app/domain';
import { NatsClient, publishDurably } from '@app/messaging';
import { DeadLetterStore } from './dead-letter-store.js';

/** Dead letters resubmitted at once: their publishes are awaited together, then marked in one statement. */
const RESUBMIT_BATCH = 500;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The api's dead-letter commands (`resubmitDeadLetters`,
 * `discardDeadLetters`), taken by one dispatcher replica (a queue group):
 * the dispatcher owns `dead_letter`. Each acts on the OPEN dead letters of
 * its filters, at most MAX_DEAD_LETTERS_PER_COMMAND of them, oldest first,
 * and answers how many on the asker's answer subject.
 *
 * A resubmission publishes the body back to its source subject with the
 * headers it had, as message id `resubmit:<seq>` (a command repeated after a
 * crash between the publish and the mark is stored once, within the
 * stream's duplicate window), then marks it RESUBMITTED. A dead letter whose
 * source is not one the dispatcher may resubmit to (Topology.isResubmittable)
 * stays OPEN, for a discard.
 */
@Injectable()
export class DeadLetterCommands implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(DeadLetterCommands.name);
  private subscription: Subscription | null = null;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly nats: NatsClient,
    private readonly store: DeadLetterStore,
  ) {}

  onApplicationBootstrap(): void {
    this.subscription = this.nats.connection.subscribe(this.nats.topology.deadLetterCommands, {
      queue: 'webhook-dispatcher',
      callback: (error, message) => {
        if (error) return;
        const task = this.answer(message).finally(() => this.running.delete(task));
        this.running.add(task);
      },
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    // Drained: a command taken is finished and answered.
    await this.subscription?.drain().catch(() => undefined);
    await Promise.all(this.running);
  }

  /** Resubmits or discards; how many it did. */
  async execute(command: DeadLetterCommand): Promise<number> {
    return command.action === 'discard' ? this.store.discard(command.filters, MAX_DEAD_LETTERS_PER_COMMAND) : this.resubmit(command);
  }

  private async resubmit({ filters }: DeadLetterCommand): Promise<number> {
    const { topology } = this.nats;
    let count = 0;
    let after = '0';
    // Only what was there when the command came: a resubmission that fails again is a new dead letter, not one to send again now.
    const upTo = await this.store.lastSeq();
    while (count < MAX_DEAD_LETTERS_PER_COMMAND) {
      const batch = await this.store.openBetween(filters, after, upTo, Math.min(RESUBMIT_BATCH, MAX_DEAD_LETTERS_PER_COMMAND - count));
      if (batch.length === 0) break;
      after = batch.at(-1)!.seq;
      const sendable = batch.filter((letter) => topology.isResubmittable(letter.sourceSubject));
      if (sendable.length === 0) continue;
      // Claimed first: a discard at the same moment takes what this has not claimed, and nothing is both.
      const claimed = new Set(await this.store.markResubmitted(sendable.map((letter) => letter.seq)));
      const sending = sendable.filter((letter) => claimed.has(letter.seq));
      const sent = await Promise.allSettled(
        sending.map((letter) => publishDurably(this.nats, letter.sourceSubject, new Uint8Array(letter.body), { messageId: `resubmit:${letter.seq}`, headers: letter.headers })),
      );
      const failed = sending.filter((_, index) => sent[index]!.status === 'rejected');
      if (failed.length > 0) {
        await this.store.reopen(failed.map((letter) => letter.seq));
        throw (sent.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult).reason;
      }
      count += sending.length;
    }
    return count;
  }

  private async answer(message: Msg): Promise<void> {
    // Answers go to the api's answer subjects only (Topology.deadLetterAnswer), never to an inbox.
    const reply = message.reply?.startsWith(this.nats.topology.deadLetterAnswer('')) ? message.reply : null;
    let answer: DeadLetterCommandAnswer;
    let command: DeadLetterCommand | null = null;
    try {
      command = parseDeadLetterCommand(JSON.parse(decoder.decode(message.data)));
    } catch {
      command = null;
    }
    if (!command) {
      answer = { error: 'not a dead-letter command: {action: resubmit|discard, filters}' };
    } else {
      try {
        answer = { count: await this.execute(command) };
        this.logger.log(`dead letters ${command.action === 'discard' ? 'discarded' : 'resubmitted'}: ${answer.count}`);
      } catch (error) {
        answer = { error: (error as Error).message };
        this.logger.warn(`cannot ${command.action} dead letters: ${answer.error}`);
      }
    }
    if (reply) this.nats.connection.publish(reply, encoder.encode(JSON.stringify(answer)));
  }
}
