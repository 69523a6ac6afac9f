import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OutageSafeWrites1764800000000 implements MigrationInterface {
  name = 'OutageSafeWrites1764800000000';

  async up(runner: QueryRunner): Promise<void> {
    // The events-stream sequence of the lifecycle message a profile row reflects: a write
    // retried after an outage never overwrites a later one.
    await runner.query('ALTER TABLE profile ADD COLUMN lifecycle_seq bigint NOT NULL DEFAULT 0');
    // The id of the delivery change a log line was projected from: projecting it twice stores it once.
    await runner.query('ALTER TABLE delivery_attempt ADD COLUMN record_id uuid');
    await runner.query('CREATE UNIQUE INDEX delivery_attempt_record_id_idx ON delivery_attempt (record_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX delivery_attempt_record_id_idx');
    await runner.query('ALTER TABLE delivery_attempt DROP COLUMN record_id');
    await runner.query('ALTER TABLE profile DROP COLUMN lifecycle_seq');
  }
}
