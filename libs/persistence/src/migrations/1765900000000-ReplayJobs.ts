import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Replays as jobs: the api writes what was asked (`replay_job`, and a
 * cancellation), the webhook-dispatcher replica that runs it writes how far
 * it got (`replay_progress`): one writer per table. No foreign key between
 * them: each is pruned on its own.
 */
export class ReplayJobs1765900000000 implements MigrationInterface {
  name = 'ReplayJobs1765900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE replay_job (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('REDELIVER', 'REROUTE')),
        endpoint_id uuid,
        endpoint_type text,
        from_time timestamptz NOT NULL,
        to_time timestamptz NOT NULL,
        dry_run boolean NOT NULL,
        rate_per_second integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        cancel_requested_at timestamptz,
        CHECK ((kind = 'REDELIVER') = (endpoint_id IS NOT NULL)),
        CHECK (from_time < to_time)
      )`);
    await runner.query('CREATE INDEX replay_job_created_at_idx ON replay_job (created_at)');
    await runner.query(`
      CREATE TABLE replay_progress (
        job_id uuid PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
        total bigint,
        done bigint NOT NULL DEFAULT 0,
        sent bigint NOT NULL DEFAULT 0,
        skipped bigint NOT NULL DEFAULT 0,
        position bigint NOT NULL DEFAULT 0,
        rate double precision,
        reached jsonb NOT NULL DEFAULT '{}',
        error text,
        worker text NOT NULL,
        started_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        finished_at timestamptz
      )`);
    await runner.query('CREATE INDEX replay_progress_open_idx ON replay_progress (job_id) WHERE finished_at IS NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE replay_progress');
    await runner.query('DROP TABLE replay_job');
  }
}
