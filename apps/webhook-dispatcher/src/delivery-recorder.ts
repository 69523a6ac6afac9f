import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { NatsClient, publishDurably, type DeliveryChange } from '@app/messaging';
import { backoffMs } from '@app/runtime';

/** Short, so that a change waiting for NATS is stored within seconds of its return (see DeliveryChangesConsumer.claimHorizon). */
export const RECORD_RETRY_CAP_MS = 2_000;
/** Changes in one message at most (the projector orders them by sequence × this + place). */
export const MAX_BATCH_CHANGES = 200;
/** Bytes of one message at most: well under NATS's 1 MB, with a parked event's body (base64) in it. */
const MAX_BATCH_BYTES = 512 * 1_024;
const FLUSH_INTERVAL_MS = 2;

interface Pending {
  json: string;
  keepAlive?: () => void;
  stored: (seq: number) => void;
}

/**
 * Records delivery changes in the attempts stream, many changes to one
 * message (one JetStream publish and one projector message for a whole batch
 * of deliveries). `record` resolves once JetStream stored the change (with
 * the attempts stream's sequence of its message), waiting
 * (capped backoff, no give-up time) while NATS is away: the attempt was made,
 * so its outcome must not be lost, and the delivery is not acked (and so not
 * attempted again) before it is stored.
 */
@Injectable()
export class DeliveryRecorder implements OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryRecorder.name);
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly publishing = new Set<Promise<void>>();

  constructor(private readonly nats: NatsClient) {}

  record(fields: Omit<DeliveryChange, 'id'>, keepAlive?: () => void): Promise<number> {
    const json = JSON.stringify({ id: randomUUID(), ...fields } satisfies DeliveryChange);
    return new Promise((stored) => {
      if (this.pendingBytes + json.length > MAX_BATCH_BYTES) this.flush();
      this.pending.push({ json, keepAlive, stored });
      this.pendingBytes += json.length;
      if (this.pending.length >= MAX_BATCH_CHANGES) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.flush();
    await Promise.all(this.publishing);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (batch.length === 0) return;
    const task = this.publish(batch).finally(() => this.publishing.delete(task));
    this.publishing.add(task);
  }

  private async publish(batch: Pending[]): Promise<void> {
    const data = new TextEncoder().encode(`[${batch.map((entry) => entry.json).join(',')}]`);
    // One id for every try: a publish that was stored but whose ack was lost is stored once.
    const messageId = randomUUID();
    for (let failures = 1; ; failures += 1) {
      try {
        const { seq } = await publishDurably(this.nats, this.nats.topology.deliveryChanges, data, { messageId });
        batch.forEach((entry) => entry.stored(seq));
        return;
      } catch (error) {
        batch.forEach((entry) => entry.keepAlive?.());
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn(`cannot record ${batch.length} delivery changes (${(error as Error).message}); retrying`);
        }
        await sleep(backoffMs(failures, 200, RECORD_RETRY_CAP_MS));
      }
    }
  }
}
