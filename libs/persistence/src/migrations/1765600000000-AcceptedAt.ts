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
    await runner.query('ALTER TABLE delivery_retry ADD COLUMN accepted_at timestamptz');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE delivery_retry DROP COLUMN accepted_at');
  }
}
