import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook secrets and custom header values are kept sealed (SECRET_KEYS) in
 * one column. The keys live in the environment, not here: the api seals the
 * rows that still hold plaintext when it starts (SecretsAtRest) and empties
 * their plaintext columns, which a later migration drops.
 */
export class SealedSecrets1765500000000 implements MigrationInterface {
  name = 'SealedSecrets1765500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE endpoint ADD COLUMN sealed_secrets text');
  }

  /** Refused while any secret is sealed: dropping the column would lose every webhook's secrets (the plaintext columns are empty). */
  async down(runner: QueryRunner): Promise<void> {
    const [{ sealed }] = (await runner.query('SELECT count(*)::int AS sealed FROM endpoint WHERE sealed_secrets IS NOT NULL')) as Array<{ sealed: number }>;
    if (sealed > 0) throw new Error(`${sealed} webhook endpoints keep their secrets sealed only: reverting would lose them`);
    await runner.query('ALTER TABLE endpoint DROP COLUMN sealed_secrets');
  }
}
