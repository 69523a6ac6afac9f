import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An endpoint's delivery health is one record, the webhook-dispatcher's
 * `health.<endpoint id>` in the config bucket, which every app reads (the api
 * included): its copy in PostgreSQL goes.
 */
export class HealthOnlyInConfigBucket1765700000000 implements MigrationInterface {
  name = 'HealthOnlyInConfigBucket1765700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE endpoint_health');
  }

  async down(runner: QueryRunner): Promise<void> {
    // Empty: the dispatcher's records in the config bucket stay the truth, as they were before.
    await runner.query(`
      CREATE TABLE endpoint_health (
        endpoint_id uuid PRIMARY KEY REFERENCES endpoint (id) ON DELETE CASCADE,
        state text NOT NULL CHECK (state IN ('ACTIVE', 'PAUSED_BY_FAILURES', 'DISABLED_GONE')),
        resume_generation integer NOT NULL DEFAULT 0,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
  }
}
