import { Injectable } from '@nestjs/common';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { NatsClient, openLeasesBucket, PartitionStore } from '@app/messaging';
import type { ConsumerLagModel } from './consumer-lag.model.js';

/**
 * Each data-path consumer's figures, from JetStream: the lag an operator
 * would read with the `nats` CLI for a durable consumer; for a partitioned
 * one (ingest, profile-sync, filter-router), the messages after the lowest
 * position of its partitions.
 */
@Injectable()
export class ReadConsumerLag {
  private leases: Promise<KV> | null = null;

  constructor(private readonly nats: NatsClient) {}

  async execute(): Promise<ConsumerLagModel[]> {
    return Promise.all(
      this.nats.topology.durableConsumers.map(async ({ app, stream, durable, subjects }) => {
        const info = await this.nats.manager.consumers.info(stream, durable).catch((error: unknown) => {
          // Its app has not started yet (no stream, or no consumer), or it reads in partitions.
          if (error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound)) return null;
          throw error;
        });
        if (info) {
          return { app, stream, consumer: durable, exists: true, pending: info.num_pending, ackPending: info.num_ack_pending, redelivered: info.num_redelivered };
        }
        const upTo = await new PartitionStore(await (this.leases ??= openLeasesBucket(this.nats)), durable).readUpTo();
        const last = upTo < 0 ? 0 : ((await this.nats.manager.streams.getMessage(stream, { last_by_subj: subjects }).catch(() => null))?.seq ?? 0);
        return { app, stream, consumer: durable, exists: upTo >= 0, pending: Math.max(0, last - upTo), ackPending: 0, redelivered: 0 };
      }),
    );
  }
}
