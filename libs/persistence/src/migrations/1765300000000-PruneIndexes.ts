import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The delivery log and failed deliveries are pruned by age through these indexes (never a full scan). */
export class PruneIndexes1765300000000 implements MigrationInterface {
  name = 'PruneIndexes1765300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX delivery_attempt_attempted_at_idx ON delivery_attempt (attempted_at)');
    await runner.query('CREATE INDEX delivery_retry_failed_at_idx ON delivery_retry (failed_at) WHERE failed_at IS NOT NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX delivery_retry_failed_at_idx');
    await runner.query('DROP INDEX delivery_attempt_attempted_at_idx');
  }
}
