import { headers as natsHeaders } from '@nats-io/transport-node';
import { JetStreamApiCodes, JetStreamApiError, type PubAck } from '@nats-io/jetstream';
import { DependencyUnavailableError } from '@app/runtime';
import type { NatsClient } from './nats-connection.js';

/** JetStream did not confirm that it stored the message; the caller may try again later. */
export class PublishUnavailableError extends DependencyUnavailableError {
  readonly code: string = 'PUBLISH_UNAVAILABLE';
  /** How long a consumer waiting on it backs off at most. */
  readonly retryCapMs: number | undefined = undefined;
}

/** The stream is full of messages not every consumer has read: it refuses until they have (streams.ts). */
export class StreamFullError extends PublishUnavailableError {
  override readonly code = 'STREAM_FULL';
  override readonly retryCapMs = 2_000;
}

export interface PublishOptions {
  /** Idempotency key: a re-publish within the duplicate window is stored once. */
  messageId: string;
  headers?: Record<string, string>;
  /** How long to wait for the stream's ack; defaults to 5 s. */
  timeoutMs?: number;
}

/**
 * Publishes to JetStream and resolves once the stream has stored the message.
 * The promise is created synchronously, so messages published one after the
 * other from one process are stored in that order even when their acks are
 * awaited together.
 */
export function publishDurably(client: NatsClient, subject: string, data: Uint8Array, options: PublishOptions): Promise<PubAck> {
  const messageHeaders = natsHeaders();
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    messageHeaders.set(name, value);
  }
  return client.jetstream
    .publish(subject, data, { msgID: options.messageId, headers: messageHeaders, timeout: options.timeoutMs ?? 5_000 })
    .catch((error: unknown) => {
      // A message over the server's limit will never be stored: that is the message's fault, not an outage.
      if (/maximum payload|max_payload/i.test((error as Error).message)) throw error;
      if (isStoreFull(error)) {
        throw new StreamFullError(`${subject}: its stream is full of messages not yet read by every consumer`, { cause: error });
      }
      throw new PublishUnavailableError(`JetStream did not store ${subject}: ${(error as Error).message}`, { cause: error });
    });
}

/** Whether JetStream refused a conditional write (an expected last sequence) because the subject moved on: another writer was first. */
export function isWrongLastSequence(error: unknown): boolean {
  return (
    error instanceof JetStreamApiError &&
    (error.code === JetStreamApiCodes.StreamWrongLastSequence || error.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

/** Whether JetStream refused a message because its stream (or bucket) is full. */
export function isStoreFull(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    if (/maximum (bytes|messages)|resource limits exceeded|insufficient (storage )?resources/i.test((current as Error).message ?? '')) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
