import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The dead-letter stream's records, projected by the webhook-dispatcher, listed by the api and resubmitted or discarded. */
export class DeadLetters1766000000000 implements MigrationInterface {
  name = 'DeadLetters1766000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE dead_letter (
        seq bigint PRIMARY KEY,
        app text NOT NULL,
        consumer text NOT NULL,
        reason text NOT NULL,
        detail text NOT NULL,
        source_subject text NOT NULL,
        source_sequence bigint,
        event_id text,
        headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        body bytea NOT NULL,
        dead_lettered_at timestamptz NOT NULL,
        state text NOT NULL DEFAULT 'OPEN' CHECK (state IN ('OPEN', 'RESUBMITTED', 'DISCARDED')),
        resolved_at timestamptz
      )`);
    // The list's order (and the prune's range), and its usual filters: the open ones, one app's, one reason's.
    await runner.query('CREATE INDEX dead_letter_dead_lettered_at_idx ON dead_letter (dead_lettered_at, seq)');
    await runner.query('CREATE INDEX dead_letter_state_idx ON dead_letter (state, dead_lettered_at)');
    await runner.query('CREATE INDEX dead_letter_app_idx ON dead_letter (app, dead_lettered_at)');
    await runner.query('CREATE INDEX dead_letter_reason_idx ON dead_letter (reason, dead_lettered_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE dead_letter');
  }
}
