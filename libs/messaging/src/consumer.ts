import { SetMetadata } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import type { Outcome } from './outcome.js';
import type { Topology } from './topology.js';

/** Declares where a durable consumer reads and how hard it works. */
export interface ConsumerSpec {
  /** Durable name; replicas of an app share it and so share the work. */
  durable: string;
  stream: (topology: Topology) => string;
  /** One subject (nats-server 2.9 has no plural filter subjects). */
  filterSubject: (topology: Topology) => string;
  /** Messages handled at once by one replica; also bounds its memory. Default 256. */
  concurrency?: number;
  /** Attempts after which a message that keeps failing is dead-lettered. Default 10. */
  maxAttempts?: number;
  /** How long the server waits for an ack before redelivering. Default 30 s. */
  ackWaitMs?: number;
  /**
   * The event a message is about, as the `event_id` of the runner's log lines about it.
   * Default: the `Es-Event-Id` header the data path sets (an agent's own message has none).
   */
  eventIdOf?: (message: JsMsg) => string | undefined;
}

/** A consumer: one handler method that returns an explicit outcome. */
export interface MessageHandler {
  handle(message: JsMsg): Promise<Outcome>;
}

export const CONSUMER_SPEC = Symbol('jetstream-consumer-spec');

/** Registers a provider as a durable JetStream consumer, started by the ConsumerHost. */
export const JetStreamConsumer = (spec: ConsumerSpec): ClassDecorator => SetMetadata(CONSUMER_SPEC, spec);
