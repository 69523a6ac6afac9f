import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OutageSafeWrites1764800000000 implements MigrationInterface {
  name = 'OutageSafeWrites1764800000000';

  async up(runner: QueryRunner): Promise<void> {
    // The events-stream sequence of the lifecycle message a profile row reflects: a write
    // retried after an outage never overwrites a later one.
    await runner.query('ALTER TABLE profile ADD COLUMN lifecycle_seq bigint NOT NULL DEFAULT 0');
    // The attempts-stream sequence a delivery log line was projected from: projecting it twice stores it once.
    await runner.query('ALTER TABLE delivery_attempt ADD COLUMN record_seq bigint');
    await runner.query('CREATE UNIQUE INDEX delivery_attempt_record_seq_idx ON delivery_attempt (record_seq)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX delivery_attempt_record_seq_idx');
    await runner.query('ALTER TABLE delivery_attempt DROP COLUMN record_seq');
    await runner.query('ALTER TABLE profile DROP COLUMN lifecycle_seq');
  }
}
