import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EndpointHealth1764900000000 implements MigrationInterface {
  name = 'EndpointHealth1764900000000';

  async up(runner: QueryRunner): Promise<void> {
    // An endpoint's delivery health is the webhook-dispatcher's record, no longer part of the api's endpoint row.
    await runner.query(`
      CREATE TABLE endpoint_health (
        endpoint_id uuid PRIMARY KEY REFERENCES endpoint (id) ON DELETE CASCADE,
        state text NOT NULL CHECK (state IN ('ACTIVE', 'PAUSED_BY_FAILURES', 'DISABLED_GONE')),
        resume_generation integer NOT NULL DEFAULT 0,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Each resume by hand increments it: the dispatcher's health from before no longer counts.
    await runner.query('ALTER TABLE endpoint ADD COLUMN resume_generation integer NOT NULL DEFAULT 0');
    await runner.query(`
      INSERT INTO endpoint_health (endpoint_id, state)
      SELECT id, state FROM endpoint WHERE state IN ('PAUSED_BY_FAILURES', 'DISABLED_GONE')`);
    await runner.query(`UPDATE endpoint SET state = 'ACTIVE' WHERE state IN ('PAUSED_BY_FAILURES', 'DISABLED_GONE')`);
    await runner.query('ALTER TABLE endpoint DROP CONSTRAINT endpoint_state_check');
    await runner.query(`ALTER TABLE endpoint ADD CONSTRAINT endpoint_state_check CHECK (state IN ('ACTIVE', 'PAUSED_BY_HAND'))`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE endpoint DROP CONSTRAINT endpoint_state_check');
    await runner.query(
      `ALTER TABLE endpoint ADD CONSTRAINT endpoint_state_check CHECK (state IN ('ACTIVE', 'PAUSED_BY_FAILURES', 'DISABLED_GONE', 'PAUSED_BY_HAND'))`,
    );
    await runner.query(`
      UPDATE endpoint SET state = health.state FROM endpoint_health health
      WHERE health.endpoint_id = endpoint.id AND endpoint.state = 'ACTIVE' AND health.resume_generation >= endpoint.resume_generation`);
    await runner.query('ALTER TABLE endpoint DROP COLUMN resume_generation');
    await runner.query('DROP TABLE endpoint_health');
  }
}
