import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When ingest accepted the event of a waiting delivery, for the time to a
 * webhook's eventual success (a metric). Null for deliveries parked before
 * it existed, and for resends and replays (their latency is not the
 * pipeline's).
 */
export class AcceptedAt1765600000000 implements MigrationInterface {
  name = 'AcceptedAt1765600000000';

  async up(runner: QueryRunner): Promise<void> {
    // The ALTER needs an exclusive lock on delivery_retry, which the dispatchers use all the time. Queued
    // behind their transactions it would block every later query of the table too: give up after 5 s
    // instead (lock_not_available, transient: the start-up tries again). SET LOCAL lasts for this
    // migration's own transaction (migrationsTransactionMode 'each').
    await runner.query("SET LOCAL lock_timeout = '5s'");
    await runner.query('ALTER TABLE delivery_retry ADD COLUMN accepted_at timestamptz');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE delivery_retry DROP COLUMN accepted_at');
  }
}
