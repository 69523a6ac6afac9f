import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A profile's last lifecycle changes (ProfileRegistry's HISTORY), not only
 * its latest: profile-sync, started again, decides an event read again from
 * a partition's position with the profile as it was when the event was
 * stored, though the profile changed again since (deleted, then created
 * again). Null for rows written before it (their latest change is all they
 * tell).
 */
export class ProfileHistory1766200000000 implements MigrationInterface {
  name = 'ProfileHistory1766200000000';

  async up(runner: QueryRunner): Promise<void> {
    // profile-sync writes the table while it runs: give up after 5 s rather than queue every later query (AcceptedAt).
    await runner.query("SET LOCAL lock_timeout = '5s'");
    await runner.query('ALTER TABLE profile ADD COLUMN lifecycle_history jsonb');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE profile DROP COLUMN lifecycle_history');
  }
}
