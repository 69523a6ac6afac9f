import type { MigrationInterface, QueryRunner } from 'typeorm';

/** A READ_ONLY token may be scoped to endpoints: NULL reads every endpoint, a list only those (a deleted one's id matches nothing). */
export class ScopedTokens1765800000000 implements MigrationInterface {
  name = 'ScopedTokens1765800000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE api_token ADD COLUMN endpoint_ids text[]');
    await runner.query(`ALTER TABLE api_token ADD CONSTRAINT api_token_scoped_read_only CHECK (endpoint_ids IS NULL OR scope = 'READ_ONLY')`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE api_token DROP COLUMN endpoint_ids');
  }
}
