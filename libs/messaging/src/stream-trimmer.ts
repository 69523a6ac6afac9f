import { Logger } from '@nestjs/common';
import { AckPolicy, type ConsumerInfo } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { openLeasesBucket } from './lease.js';
import type { NatsClient } from './nats-connection.js';
import { PartitionStore } from './partitions.js';
import { trimmedStreams } from './streams.js';

/** Trimming starts when a stream holds this share of its STREAM_MAX_BYTES, and frees down to TARGET. */
const START = 0.8;
const TARGET = 0.6;

/**
 * Keeps the data-path streams from filling with history: when one holds
 * more than 80% of its STREAM_MAX_BYTES, its oldest messages that every
 * consumer of it has read are purged, down to 60%. A message some consumer
 * has not read yet is never purged: a stream full of those refuses new
 * messages instead (streams.ts). A partitioned reader has read what the
 * lowest position of its partitions has passed. Every app runs one, for the streams whose
 * required reader it runs (`ownConsumers`, durable names): a stream is
 * trimmed only while its reader exists anyway, and no other app's NATS user
 * needs the right to purge it. Replicas' purges only ever remove what all
 * consumers have read, so running several is harmless.
 */
export class StreamTrimmer {
  private readonly logger = new Logger(StreamTrimmer.name);
  private leases: KV | null = null;

  constructor(
    private readonly client: NatsClient,
    private readonly ownConsumers: () => ReadonlySet<string>,
  ) {}

  /** One pass over the streams this app reads; returns how many messages it purged. */
  async trim(): Promise<number> {
    const own = this.ownConsumers();
    let purged = 0;
    for (const { stream, readers, keepsHistory, subjects } of trimmedStreams(this.client)) {
      if (readers.some((reader) => own.has(reader))) purged += await this.trimStream(stream, readers, keepsHistory, subjects);
    }
    return purged;
  }

  private async trimStream(stream: string, readers: string[], keepsHistory: boolean, subjects: string): Promise<number> {
    const { manager } = this.client;
    const info = await manager.streams.info(stream);
    const maxBytes = info.config.max_bytes;
    const { bytes, messages, first_seq: firstSeq } = info.state;
    if (messages === 0 || (keepsHistory && (maxBytes <= 0 || bytes < maxBytes * START))) return 0;
    const readByAll = await this.readByAll(stream, info.state.last_seq, readers, subjects);
    if (readByAll < firstSeq) return 0;
    // Oldest first, as many as bring it down to the target, by the stream's average message size (all that was read, for a stream without history).
    const wanted = keepsHistory ? Math.ceil((bytes - maxBytes * TARGET) / (bytes / messages)) : messages;
    const upTo = Math.min(firstSeq + wanted, readByAll + 1);
    const response = await manager.streams.purge(stream, { seq: upTo });
    if (response.purged > 0 && keepsHistory) this.logger.log(`${stream}: purged ${response.purged} messages every consumer had read (${bytes} of ${maxBytes} bytes used)`);
    return response.purged;
  }

  /**
   * The newest sequence every consumer of the stream has read; -1 (nothing)
   * while one of the stream's required `readers` does not exist.
   */
  private async readByAll(stream: string, lastSeq: number, readers: string[], subjects: string): Promise<number> {
    let lowest = Number.POSITIVE_INFINITY;
    const present = new Set<string>();
    for await (const consumer of this.client.manager.consumers.list(stream)) {
      present.add(consumer.name);
      lowest = Math.min(lowest, readUpTo(consumer, lastSeq));
    }
    // A partitioned reader (PartitionedRunner) has no durable consumer: its partitions' lowest position is where it is.
    for (const reader of readers) {
      if (present.has(reader)) continue;
      this.leases ??= await openLeasesBucket(this.client);
      const upTo = await new PartitionStore(this.leases, reader).readUpTo();
      if (upTo < 0) continue;
      present.add(reader);
      // Past its subjects' last message, the rest of the stream is nothing of its (as a durable filtered to some subjects).
      const last = (await this.client.manager.streams.getMessage(stream, { last_by_subj: subjects }))?.seq ?? 0;
      lowest = Math.min(lowest, upTo >= last ? lastSeq : upTo);
    }
    if (!readers.every((reader) => present.has(reader))) return -1;
    return Number.isFinite(lowest) ? lowest : -1;
  }
}

/**
 * How far one consumer has read: all of the stream when nothing is left for
 * it (a consumer filtered to some subjects has nothing to do with the rest),
 * up to its last delivery when none is waiting for an ack (or it does not
 * ack), else up to its ack floor.
 */
function readUpTo(consumer: ConsumerInfo, lastSeq: number): number {
  const settled = consumer.num_ack_pending === 0 || consumer.config.ack_policy === AckPolicy.None;
  if (settled && consumer.num_pending === 0) return lastSeq;
  return settled ? consumer.delivered.stream_seq : consumer.ack_floor.stream_seq;
}
