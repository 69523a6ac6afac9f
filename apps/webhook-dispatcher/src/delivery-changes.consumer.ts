import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { DeadLetterReason, decodeChanges, DURABLES, JetStreamConsumer, type MessageHandler, Outcome } from '@app/messaging';
import { DeliveryProjection } from './delivery-projection.js';
import { MAX_BATCH_CHANGES } from './delivery-recorder.js';

export const PROJECTOR_DURABLE = DURABLES.deliveryProjector;

/**
 * Projects the attempts stream into the ledger in PostgreSQL: the delivery
 * log and the waiting deliveries. While PostgreSQL is away the changes wait in the
 * stream (a transient failure, retried for as long as it lasts) and are
 * applied once it is back; nothing the dispatcher did is lost.
 */
@Injectable()
@JetStreamConsumer({
  durable: PROJECTOR_DURABLE,
  stream: (topology) => topology.streams.attempts,
  filterSubject: (topology) => topology.deliveryChanges,
  concurrency: 1_024,
  ackWaitMs: 30_000,
})
export class DeliveryChangesConsumer implements MessageHandler {
  constructor(private readonly projection: DeliveryProjection) {}

  async handle(message: JsMsg): Promise<Outcome> {
    const changes = decodeChanges(message.data);
    if (!changes) return Outcome.skip(DeadLetterReason.MALFORMED_MESSAGE, 'not an array of delivery change records');
    // Ordered by stream sequence, then by place in the batch.
    await Promise.all(changes.map((change, index) => this.projection.apply({ seq: message.seq * MAX_BATCH_CHANGES + index, change })));
    return Outcome.done;
  }
}
