import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { NatsClient, publishDurably, encodeChange, type DeliveryChange } from '@app/messaging';
import { backoffMs } from '@app/runtime';

/** Short, so that a change waiting for NATS is stored within seconds of its return (see RetryScheduler). */
export const RECORD_RETRY_CAP_MS = 2_000;

/**
 * Records delivery changes in the attempts stream. `record` resolves once
 * JetStream stored the change, waiting (capped backoff, no give-up time) while
 * NATS is away: the attempt was made, so its outcome must not be lost, and
 * the delivery is not acked (and so not attempted again) before it is stored.
 */
@Injectable()
export class DeliveryRecorder {
  private readonly logger = new Logger(DeliveryRecorder.name);

  constructor(private readonly nats: NatsClient) {}

  async record(fields: Omit<DeliveryChange, 'id'>, keepAlive?: () => void): Promise<void> {
    // One id for every try: a publish that was stored but whose ack was lost is stored once.
    const change: DeliveryChange = { id: randomUUID(), ...fields };
    const data = encodeChange(change);
    const messageId = change.id;
    for (let failures = 1; ; failures += 1) {
      try {
        await publishDurably(this.nats, this.nats.topology.deliveryChanges(change.endpointId), data, { messageId });
        return;
      } catch (error) {
        keepAlive?.();
        const delay = backoffMs(failures, 200, RECORD_RETRY_CAP_MS);
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn(`cannot record the delivery of ${change.eventId} to ${change.endpointId} (${(error as Error).message}); retrying`);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
