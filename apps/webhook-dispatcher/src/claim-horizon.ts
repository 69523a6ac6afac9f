import { Injectable } from '@nestjs/common';
import { NatsClient } from '@app/messaging';
import { PROJECTOR_DURABLE } from './delivery-changes.consumer.js';
import { RECORD_RETRY_CAP_MS } from './delivery-recorder.js';

/** Several times the recorder's longest wait between two tries. */
const RECONNECT_GRACE_MS = 5 * RECORD_RETRY_CAP_MS;
/** How long a claim horizon is reused: an older one only makes claims more careful (fewer expired claims qualify). */
const HORIZON_REUSE_MS = 1_000;

/**
 * How far back an expired claim may be taken again. The ledger's one way in
 * is the attempts stream, so a claimed delivery's outcome is on its way
 * there for a moment (longer while PostgreSQL or NATS is away); a claim that
 * expired meanwhile must not be taken again, or the delivery would be sent
 * twice.
 */
@Injectable()
export class ClaimHorizon {
  private horizon: { lookedAt: number; value: Promise<Date> } | null = null;

  constructor(private readonly nats: NatsClient) {}

  /**
   * The claim horizon: a parked delivery whose claim expired after it may
   * still have its attempt's change on the way, so the scheduler does not
   * take it again yet. It is when the oldest change not yet projected was
   * stored, or when we looked if none waits. Right after NATS came back,
   * changes that waited for it in memory are being stored: no expired claim
   * qualifies (the epoch) until they have had time to be. Looked up at most
   * once a second, however often the scheduler claims.
   */
  now(): Promise<Date> {
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
