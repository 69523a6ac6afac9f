import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { isTransientFailure } from '@app/runtime';
import { DeliveryStore, type SequencedChange } from './delivery-store.js';
import { RetryHolds } from './retry-holds.js';

const FLUSH_INTERVAL_MS = 20;
const MAX_BATCH = 500;

/**
 * Writes changes into PostgreSQL in batches (one transaction for many).
 * `apply` resolves once the change is committed and rejects when PostgreSQL
 * could not take it; the consumer then leaves it in the stream for later.
 * A delivery parked for an endpoint that is not active is written held
 * (RetryHolds).
 */
@Injectable()
export class DeliveryProjection implements OnApplicationShutdown {
  private pending: Array<{ entry: SequencedChange; done: () => void; failed: (error: unknown) => void }> = [];
  private timer: NodeJS.Timeout | null = null;
  /** Batches are written one after the other, so an earlier change never lands after a later one. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: DeliveryStore,
    private readonly holds: RetryHolds,
  ) {}

  apply(entry: SequencedChange): Promise<void> {
    return new Promise((done, failed) => {
      this.pending.push({ entry, done, failed });
      if (this.pending.length >= MAX_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), FLUSH_INTERVAL_MS);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.flush();
    await this.writing;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.writing = this.writing.then(() => this.write(batch));
  }

  private async write(batch: Array<{ entry: SequencedChange; done: () => void; failed: (error: unknown) => void }>): Promise<void> {
    // In the order the stream delivered them (handlers start in arrival order).
    batch.sort((a, b) => a.entry.seq - b.entry.seq);
    try {
      await this.commit(batch.map((item) => item.entry));
      batch.forEach((item) => item.done());
    } catch (error) {
      if (isTransientFailure(error) || batch.length === 1) {
        batch.forEach((item) => item.failed(error));
        return;
      }
      // One bad change must not hold back the batch: each on its own, so only it fails.
      for (const item of batch) {
        await this.commit([item.entry]).then(item.done, item.failed);
      }
    }
  }

  private async commit(entries: SequencedChange[]): Promise<void> {
    const parked = await this.store.applyChanges(entries, (endpointId) => this.holds.holds(endpointId));
    this.holds.parked(parked);
  }
}
