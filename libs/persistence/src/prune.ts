import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

const BATCH = 5_000;

/**
 * Deletes the rows of `table` whose `column` is older than `retentionMs`
 * (and that meet `condition`), a batch at a time through the column's index,
 * so that no delete holds its locks for long. Returns how many it deleted.
 * `table`, `column` and `condition` are the caller's constants, never input.
 */
export async function deleteOlderThan(dataSource: DataSource, table: string, column: string, retentionMs: number, condition = 'TRUE'): Promise<number> {
  let deleted = 0;
  for (;;) {
    const [, count]: [unknown, number] = await dataSource.query(
      `DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM ${table}
         WHERE ${column} < now() - make_interval(secs => $1::double precision / 1000) AND ${condition}
         LIMIT ${BATCH}))`,
      [retentionMs],
    );
    deleted += count;
    if (count < BATCH) return deleted;
  }
}

/** The first prune this soon after start, then one every PRUNE_INTERVAL_MS; a failed one is tried again after RETRY_MS. */
const FIRST_PRUNE_AFTER_MS = 5_000;
const PRUNE_INTERVAL_MS = 600_000;
const RETRY_MS = 30_000;

/**
 * Runs a prune soon after start and then periodically, one at a time; one
 * that fails (PostgreSQL away) is tried again within half a minute, not at
 * the next interval. `prune` returns what it did, for the log (or null).
 */
export class PruneSchedule {
  private readonly logger = new Logger(PruneSchedule.name);
  private timers: NodeJS.Timeout[] = [];
  private running = false;

  constructor(
    private readonly what: string,
    private readonly prune: () => Promise<string | null>,
  ) {}

  start(): void {
    this.timers = [setTimeout(() => void this.run(), FIRST_PRUNE_AFTER_MS), setInterval(() => void this.run(), PRUNE_INTERVAL_MS)];
  }

  stop(): void {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers = [];
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const done = await this.prune();
      if (done) this.logger.log(`${this.what}: ${done}`);
    } catch (error) {
      this.logger.warn(`${this.what}: cannot prune now (${(error as Error).message}); trying again in ${RETRY_MS / 1_000} s`);
      if (this.timers.length > 0) this.timers.push(setTimeout(() => void this.run(), RETRY_MS));
    } finally {
      this.running = false;
    }
  }
}
