import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { DeliveryStore, type AttemptRecord } from './delivery-store.js';

const FLUSH_INTERVAL_MS = 20;
const MAX_BATCH = 500;

/**
 * Writes attempts to the delivery log in batches (one INSERT for many
 * attempts). `record` resolves once the attempt is durable, so a delivery is
 * acked only after its log line is written.
 */
@Injectable()
export class DeliveryLog implements OnApplicationShutdown {
  private pending: Array<{ record: AttemptRecord; done: () => void; failed: (error: unknown) => void }> = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly store: DeliveryStore) {}

  record(record: AttemptRecord): Promise<void> {
    return new Promise((done, failed) => {
      this.pending.push({ record, done, failed });
      if (this.pending.length >= MAX_BATCH) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), FLUSH_INTERVAL_MS);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      await this.store.logAttempts(batch.map((entry) => entry.record));
      batch.forEach((entry) => entry.done());
    } catch (error) {
      batch.forEach((entry) => entry.failed(error));
    }
  }
}
