import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { DeadLetterReason, JetStreamConsumer, NatsClient, Outcome, type MessageHandler, decodeChanges } from '@app/messaging';
import { DeliveryProjection } from './delivery-projection.js';
import { MAX_BATCH_CHANGES, RECORD_RETRY_CAP_MS } from './delivery-recorder.js';

export const PROJECTOR_DURABLE = 'delivery-projector';
/** Several times the recorder's longest wait between two tries. */
const RECONNECT_GRACE_MS = 5 * RECORD_RETRY_CAP_MS;
/** How long a claim horizon is reused: an older one only makes claims more careful (fewer expired claims qualify). */
const HORIZON_REUSE_MS = 1_000;

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
  filterSubject: (topology) => topology.deliveryChanges,
  concurrency: 1_024,
  ackWaitMs: 30_000,
})
export class DeliveryChangesConsumer implements MessageHandler {
  private horizon: { lookedAt: number; value: Promise<Date> } | null = null;

  constructor(
    private readonly nats: NatsClient,
    private readonly projection: DeliveryProjection,
  ) {}

  async handle(message: JsMsg): Promise<Outcome> {
    const changes = decodeChanges(message.data);
    if (!changes) return Outcome.skip(DeadLetterReason.MALFORMED_MESSAGE, 'not an array of delivery change records');
    // Ordered by stream sequence, then by place in the batch.
    await Promise.all(changes.map((change, index) => this.projection.apply({ seq: message.seq * MAX_BATCH_CHANGES + index, change })));
    return Outcome.done;
  }

  /**
   * The claim horizon: a parked delivery whose claim expired after it may
   * still have its attempt's change on the way, so the scheduler does not
   * take it again yet. It is when the oldest change not yet projected was
   * stored, or when we looked if none waits. Right after NATS came back,
   * changes that waited for it in memory are being stored: no expired claim
   * qualifies (the epoch) until they have had time to be. Looked up at most
   * once a second, however often the scheduler claims.
   */
  claimHorizon(): Promise<Date> {
    if (this.nats.connectedForMs < RECONNECT_GRACE_MS) return Promise.resolve(new Date(0));
    const now = Date.now();
    if (this.horizon && now - this.horizon.lookedAt < HORIZON_REUSE_MS) return this.horizon.value;
    const value = this.lookUpHorizon();
    this.horizon = { lookedAt: now, value };
    // A failed look-up is not reused.
    value.catch(() => {
      if (this.horizon?.value === value) this.horizon = null;
    });
    return value;
  }

  private async lookUpHorizon(): Promise<Date> {
    const { manager, topology } = this.nats;
    const lookedAt = new Date();
    const info = await manager.consumers.info(topology.streams.attempts, PROJECTOR_DURABLE);
    if (info.num_pending === 0 && info.num_ack_pending === 0) return lookedAt;
    const oldest = await manager.streams.getMessage(topology.streams.attempts, { seq: info.ack_floor.stream_seq + 1 }).catch(() => null);
    // Unknown: only claims that never expired qualify.
    return oldest ? oldest.time : new Date(0);
  }
}
