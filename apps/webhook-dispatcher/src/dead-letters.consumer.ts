import { Injectable, Logger } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { idKey } from '@app/events';
import { DURABLES, Headers, JetStreamConsumer, keptHeaders, type MessageHandler, NatsClient, Outcome } from '@app/messaging';
import { isTransientFailure } from '@app/runtime';
import { DeadLetterStore, type DeadLetterRecord } from './dead-letter-store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const decoder = new TextDecoder();

/**
 * Projects the dead-letter stream into PostgreSQL (`dead_letter`), where
 * the api lists it and operators resubmit or discard. Every record is
 * stored, whatever it lacks (a missing header is stored empty): a projector
 * that skipped a record would dead-letter it onto the stream it reads.
 * While PostgreSQL is away the records wait in the stream (a transient
 * failure), and the insert is idempotent, so a redelivered one is stored once.
 */
@Injectable()
@JetStreamConsumer({
  durable: DURABLES.deadLetterProjector,
  stream: (topology) => topology.streams.deadLetters,
  filterSubject: (topology) => topology.allDeadLetters,
  concurrency: 64,
  eventIdOf: (message) => eventIdOf(message.data, message.headers?.get(Headers.eventId)) ?? undefined,
})
export class DeadLettersConsumer implements MessageHandler {
  private readonly logger = new Logger(DeadLettersConsumer.name);

  constructor(
    private readonly store: DeadLetterStore,
    private readonly nats: NatsClient,
  ) {}

  async handle(message: JsMsg): Promise<Outcome> {
    const { topology } = this.nats;
    try {
      await this.store.record(deadLetterRecordOf(message, (durable) => topology.appOfDurable(durable), topology.deadLetters('')));
    } catch (error) {
      // A record of this projector's own giving up that cannot be stored either is left in the stream alone
      // (`nats stream view`): dead-lettered again, it would come round to this projector for ever.
      if (message.subject === topology.deadLetters(DURABLES.deadLetterProjector) && !isTransientFailure(error)) {
        this.logger.error(`dead letter ${message.seq} of the projector itself cannot be stored, left in the stream: ${(error as Error).message}`);
        return Outcome.done;
      }
      throw error;
    }
    return Outcome.done;
  }
}

/**
 * A dead-letter message as its record: who gave up (the consumer named by
 * its header, else by its subject `<p>.dead.<consumer>`, and that
 * consumer's app), why, the original's headers and body. Text loses NUL
 * characters, which PostgreSQL's text and jsonb cannot hold.
 */
export function deadLetterRecordOf(message: Pick<JsMsg, 'seq' | 'subject' | 'data' | 'headers' | 'timestamp'>, appOf: (durable: string) => string, subjectStart: string): DeadLetterRecord {
  const header = (name: string) => clean(message.headers?.get(name) ?? '');
  const consumer = header(Headers.consumer) || (message.subject.startsWith(subjectStart) ? message.subject.slice(subjectStart.length) : message.subject);
  const sourceSequence = Number(header(Headers.sourceSequence));
  const headers = Object.fromEntries(Object.entries(keptHeaders(message)).map(([name, value]) => [clean(name), clean(value)]));
  return {
    seq: message.seq,
    app: appOf(consumer),
    consumer,
    reason: header(Headers.reason) || 'UNKNOWN',
    detail: header(Headers.detail),
    sourceSubject: header(Headers.sourceSubject),
    sourceSequence: Number.isSafeInteger(sourceSequence) && sourceSequence > 0 ? sourceSequence : null,
    eventId: eventIdOf(message.data, headers[Headers.eventId]),
    headers,
    body: message.data,
    deadLetteredAt: new Date(message.timestamp),
  };
}

/**
 * The event a dead letter is about: the body's `event.id` (the event JSON,
 * or an agent's), else the data path's `Es-Event-Id` header; as its key,
 * and only when it is a UUID.
 */
function eventIdOf(body: Uint8Array, header: string | undefined): string | null {
  let fromBody: unknown;
  try {
    fromBody = (JSON.parse(decoder.decode(body)) as { event?: { id?: unknown } } | null)?.event?.id;
  } catch {
    fromBody = undefined;
  }
  const id = typeof fromBody === 'string' && UUID.test(fromBody) ? fromBody : header && UUID.test(header) ? header : null;
  return id === null ? null : idKey(id);
}

function clean(text: string): string {
  return text.replaceAll('\u0000', '');
}
