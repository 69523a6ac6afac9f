import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A fresh webhook delivery parked before its first attempt (its endpoint
 * busy or paused) keeps its place among its endpoint's first attempts: the
 * deliveries stream's sequence of its message (`first_seq`). The endpoint's
 * partition holder sends them in that order (FirstAttemptOrder). Null for
 * retries, resends, replays, and deliveries parked before it existed.
 */
export class FirstAttemptOrder1766300000000 implements MigrationInterface {
  name = 'FirstAttemptOrder1766300000000';

  async up(runner: QueryRunner): Promise<void> {
    // As AcceptedAt: give up after 5 s rather than block the dispatchers' queries behind the exclusive lock.
    await runner.query("SET LOCAL lock_timeout = '5s'");
    await runner.query('ALTER TABLE delivery_retry ADD COLUMN first_seq bigint');
    // One endpoint's first attempts in their order (the holder's claims), and the endpoints that have any (a skip scan).
    await runner.query('CREATE INDEX delivery_retry_first_attempts_idx ON delivery_retry (endpoint_id, first_seq) WHERE first_seq IS NOT NULL AND attempt = 1 AND failed_at IS NULL');
    // The retries' claims (any replica's) leave them out: out of the claims' index too, so a long queue of them costs those claims nothing.
    await runner.query('DROP INDEX delivery_retry_ready_idx');
    await runner.query('CREATE INDEX delivery_retry_ready_idx ON delivery_retry (next_attempt_at) WHERE failed_at IS NULL AND NOT held AND (first_seq IS NULL OR attempt <> 1)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX delivery_retry_ready_idx');
    await runner.query('CREATE INDEX delivery_retry_ready_idx ON delivery_retry (next_attempt_at) WHERE failed_at IS NULL AND NOT held');
    await runner.query('DROP INDEX delivery_retry_first_attempts_idx');
    await runner.query('ALTER TABLE delivery_retry DROP COLUMN first_seq');
  }
}
