import { Injectable } from '@nestjs/common';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { NatsClient } from '@app/messaging';
import type { ConsumerLagModel } from './consumer-lag.model.js';

/** Each durable consumer's figures, from JetStream: the lag an operator would read with the `nats` CLI. */
@Injectable()
export class ReadConsumerLag {
  constructor(private readonly nats: NatsClient) {}

  async execute(): Promise<ConsumerLagModel[]> {
    return Promise.all(
      this.nats.topology.durableConsumers.map(async ({ app, stream, durable }) => {
        const info = await this.nats.manager.consumers.info(stream, durable).catch((error: unknown) => {
          // Its app has not started yet: no stream, or no consumer.
          if (error instanceof JetStreamApiError && (error.code === JetStreamApiCodes.ConsumerNotFound || error.code === JetStreamApiCodes.StreamNotFound)) return null;
          throw error;
        });
        return {
          app,
          stream,
          consumer: durable,
          exists: info !== null,
          pending: info?.num_pending ?? 0,
          ackPending: info?.num_ack_pending ?? 0,
          redelivered: info?.num_redelivered ?? 0,
        };
      }),
    );
  }
}
