import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { DeadLetterReason, JetStreamConsumer, NatsClient, Outcome, type MessageHandler, decodeChange } from '@app/messaging';
import { DeliveryProjection } from './delivery-projection.js';

export const PROJECTOR_DURABLE = 'delivery-projector';

/**
 * Projects the attempts stream into PostgreSQL: the delivery log, the retry
 * store, endpoint states. While PostgreSQL is away the changes wait in the
 * stream (a transient failure, retried for as long as it lasts) and are
 * applied once it is back; nothing the dispatcher did is lost.
 */
@Injectable()
@JetStreamConsumer({
  durable: PROJECTOR_DURABLE,
  stream: (topology) => topology.streams.attempts,
  filterSubject: (topology) => topology.allDeliveryChanges,
  concurrency: 1_024,
  ackWaitMs: 30_000,
})
export class DeliveryChangesConsumer implements MessageHandler {
  constructor(
    private readonly nats: NatsClient,
    private readonly projection: DeliveryProjection,
  ) {}

  async handle(message: JsMsg): Promise<Outcome> {
    const change = decodeChange(message.data);
    if (!change) return Outcome.skip(DeadLetterReason.MALFORMED_MESSAGE, 'not a delivery change record');
    await this.projection.apply({ seq: message.seq, change });
    return Outcome.done;
  }

  /**
   * When the oldest change not yet projected was stored (null: none waits).
   * A parked delivery whose claim expired after that time may still have its
   * attempt waiting here, so the scheduler does not take it again yet.
   */
  async oldestUnprojectedAt(): Promise<Date | null> {
    const { manager, topology } = this.nats;
    const info = await manager.consumers.info(topology.streams.attempts, PROJECTOR_DURABLE);
    if (info.num_pending === 0 && info.num_ack_pending === 0) return null;
    const oldest = await manager.streams.getMessage(topology.streams.attempts, { seq: info.ack_floor.stream_seq + 1 }).catch(() => null);
    // Unknown: only claims that never expired qualify (the epoch as horizon).
    return oldest ? oldest.time : new Date(0);
  }
}
