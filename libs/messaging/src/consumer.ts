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
  /**
   * Partitioned (PartitionedRunner): the key of a message, whose partition
   * decides which replica handles it and whose order is kept (a message is
   * published only after every earlier one with its key); null for a
   * message of every partition, which every replica handles in its place
   * in the stream (the holder of partition 0 as its owner). Without it, the
   * replicas share one durable consumer and keep no order.
   */
  partitionKey?: (message: JsMsg, topology: Topology) => string | null;
  /**
   * Partitioned: how often a partition's position is written while messages
   * flow (default 1 s). A replica killed leaves its successor to handle again
   * what was done since: a consumer whose handling cannot be taken back (a
   * webhook sent) writes it more often.
   */
  positionEveryMs?: number;
}

/** A spec with its defaults filled in. */
export type ResolvedSpec = Required<Omit<ConsumerSpec, 'partitionKey' | 'positionEveryMs'>> & Pick<ConsumerSpec, 'partitionKey' | 'positionEveryMs'>;

/** What the runner tells a handler about a message besides the message. */
export interface HandleContext {
  /**
   * Resolves once every earlier message with the same partition key has its
   * outcome (done or dead-lettered): a handler awaits it before it
   * publishes, so that one key's messages are stored in their order. At
   * once outside a partitioned consumer.
   */
  readonly turn: Promise<void>;
  /**
   * False for a message of every partition on a replica that does not hold
   * partition 0: it applies the message to its own state and writes nothing shared.
   */
  readonly owner: boolean;
  /**
   * Partitioned: aborted once the message's partition is no longer this
   * replica's (its lease lost or released). A handler about to do what
   * must not be done twice at once (send a webhook) checks it first, and
   * throws if it is aborted: the partition's next holder handles the message.
   * Absent outside a partitioned consumer.
   */
  readonly signal?: AbortSignal;
  /**
   * Orders the message among those of its partition key with the same
   * `finer` key (a camera of an agent), rather than among all of the
   * partition key's: returns the turn to await. Call it before the
   * handler's first await (later, the message is not in its place any more).
   */
  orderBy(finer: string): Promise<void>;
  /**
   * Lets the next message of the same key go on before this one has its
   * outcome: this one stores nothing downstream whose order matters (an
   * event diverted to the lost events), or has started what must come first.
   * It takes effect once this message's own turn has come: the next never
   * overtakes the key's earlier messages.
   */
  passTurn(): void;
}

export const UNPARTITIONED: HandleContext = { turn: Promise.resolve(), owner: true, orderBy: () => Promise.resolve(), passTurn: () => undefined };

/** A consumer: one handler method that returns an explicit outcome. */
export interface MessageHandler {
  handle(message: JsMsg, context: HandleContext): Promise<Outcome>;
  /**
   * Partitioned consumers whose handler keeps state from the messages of
   * every partition (a null key): the stream sequence from which this
   * replica needs them. Such a replica reads the stream even while it holds
   * no partition, so that its state is current when it takes one.
   */
  broadcastFrom?(): number;
}

export const CONSUMER_SPEC = Symbol('jetstream-consumer-spec');

/** Registers a provider as a durable JetStream consumer, started by the ConsumerHost. */
export const JetStreamConsumer = (spec: ConsumerSpec): ClassDecorator => SetMetadata(CONSUMER_SPEC, spec);
