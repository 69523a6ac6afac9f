import { hostname } from 'node:os';
import type { KV } from '@nats-io/kv';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { NatsClient } from './nats-connection.js';

/** Partitions of a partitioned consumer unless PARTITIONS says otherwise: at most this many replicas share its work. */
export const DEFAULT_PARTITIONS = 16;

/**
 * The partition of a key (FNV-1a over its UTF-16 code units, modulo the
 * count): the same in every process and every version, so that every
 * replica agrees where a camera's (an agent's) messages go.
 */
export function partitionOf(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index += 1) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** This process's name in membership keys and leases: host and pid, in the characters a KV key allows. */
export function instanceName(): string {
  return `${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * What the replicas of a partitioned consumer share, in the leases bucket
 * (`<p>_leases`), beside the partitions' leases (`partition.<durable>.<n>`):
 *
 * - `partitions.<durable>`: how many partitions it has, fixed by the first
 *   replica that started (PARTITIONS); every later one uses the stored count.
 * - `position.<durable>.<n>`: the stream sequence up to which every message
 *   of partition n is done, written by its holder. A new holder starts after it.
 * - `member.<durable>.<instance>`: each running replica, renewed every third
 *   of the lease TTL; deleted when the replica stops.
 */
export class PartitionStore {
  constructor(
    readonly bucket: KV,
    readonly durable: string,
  ) {}

  /** A partition's lease (`*`: every one of them, as a watch's filter). */
  static leaseName(durable: string, partition: number | '*'): string {
    return `partition.${durable}.${partition}`;
  }

  private positionKey(partition: number): string {
    return `position.${this.durable}.${partition}`;
  }

  get membersFilter(): string {
    return `member.${this.durable}.*`;
  }

  memberKey(instance: string): string {
    return `member.${this.durable}.${instance}`;
  }

  /** The stored partition count; null before the first replica started. */
  async count(): Promise<number | null> {
    const entry = await this.bucket.get(`partitions.${this.durable}`);
    if (!entry || entry.operation !== 'PUT') return null;
    const count = Number(entry.string());
    return Number.isInteger(count) && count > 0 ? count : null;
  }

  /**
   * The partition count, set up on first use: every partition's position
   * starts at `start` (where the durable consumer of an earlier version
   * had got to, or 0), then the count is stored. Replicas starting together
   * may all do it: each write is conditional, and the first count stored wins.
   */
  async setUp(wanted: number, start: number): Promise<number> {
    const stored = await this.count();
    if (stored !== null) return stored;
    await Promise.all(Array.from({ length: wanted }, (_, partition) => this.bucket.create(this.positionKey(partition), String(start)).catch(() => undefined)));
    await this.bucket.create(`partitions.${this.durable}`, String(wanted)).catch(() => undefined);
    return (await this.count()) ?? wanted;
  }

  async position(partition: number): Promise<number> {
    const entry = await this.bucket.get(this.positionKey(partition));
    return entry && entry.operation === 'PUT' ? Number(entry.string()) || 0 : 0;
  }

  async setPosition(partition: number, seq: number): Promise<void> {
    await this.bucket.put(this.positionKey(partition), String(seq));
  }

  /** The lowest position of all partitions: every message up to it is done. -1 before the consumer was set up. */
  async readUpTo(): Promise<number> {
    const count = await this.count();
    if (count === null) return -1;
    const positions = await Promise.all(Array.from({ length: count }, (_, partition) => this.position(partition)));
    return Math.min(...positions);
  }
}

/**
 * Where the durable consumer an earlier version read the stream with had
 * got to (its ack floor), so that an upgrade goes on from there; 0 when
 * there is none (a new installation reads the stream from its start).
 */
export async function legacyFloor(client: NatsClient, stream: string, durable: string): Promise<number> {
  try {
    return (await client.manager.consumers.info(stream, durable)).ack_floor.stream_seq;
  } catch (error) {
    if (error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound)) return 0;
    if (/consumer not found|stream not found/i.test((error as Error).message)) return 0;
    throw error;
  }
}
