import type { MigrationInterface, QueryRunner } from 'typeorm';

export class ProfilesAndLostEvents1764700000000 implements MigrationInterface {
  name = 'ProfilesAndLostEvents1764700000000';

  async up(runner: QueryRunner): Promise<void> {
    // The registry of the platform's profiles, as its lifecycle messages told it.
    await runner.query(`
      CREATE TABLE profile (
        id uuid PRIMARY KEY,
        profile_groups jsonb NOT NULL DEFAULT '[]'::jsonb,
        deleted_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE lost_event (
        id bigserial PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        type text NOT NULL,
        camera_id uuid NOT NULL,
        agent_id uuid NOT NULL,
        detection_date text NOT NULL,
        detected_at timestamptz NOT NULL,
        event jsonb NOT NULL,
        reason text NOT NULL,
        deleted_profile_ids uuid[] NOT NULL,
        diverted_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX lost_event_detected_at_idx ON lost_event (detected_at, id)');
    await runner.query('CREATE INDEX lost_event_diverted_at_idx ON lost_event (diverted_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE lost_event');
    await runner.query('DROP TABLE profile');
  }
}
