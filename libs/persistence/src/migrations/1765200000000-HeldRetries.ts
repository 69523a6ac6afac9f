import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A parked delivery of an endpoint that is not active (paused by hand or by
 * failures, disabled) is `held`: it leaves the index the retry scheduler
 * claims from, so a claim reads the due deliveries of active endpoints only,
 * however large the backlog of paused ones. The dispatcher holds and releases
 * an endpoint's rows as its config view sees the endpoint change state
 * (RetryHolds). Rows written before this migration start unheld: the first
 * claim that takes one of an inactive endpoint holds that endpoint's rows.
 */
export class HeldRetries1765200000000 implements MigrationInterface {
  name = 'HeldRetries1765200000000';

  async up(runner: QueryRunner): Promise<void> {
    // A constant default: no table rewrite.
    await runner.query('ALTER TABLE delivery_retry ADD COLUMN held boolean NOT NULL DEFAULT false');
    // The claims' index: waiting and not held, in due order. It replaces delivery_retry_due_idx.
    await runner.query('CREATE INDEX delivery_retry_ready_idx ON delivery_retry (next_attempt_at) WHERE failed_at IS NULL AND NOT held');
    await runner.query('DROP INDEX delivery_retry_due_idx');
    // One endpoint's waiting deliveries in due order, held or not: a probe's claim, and holding or releasing them.
    await runner.query('CREATE INDEX delivery_retry_endpoint_due_idx ON delivery_retry (endpoint_id, next_attempt_at) WHERE failed_at IS NULL');
    // The endpoints that have held deliveries (the reconciliation's look, a skip scan) and releasing them.
    await runner.query('CREATE INDEX delivery_retry_held_idx ON delivery_retry (endpoint_id) WHERE held');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP INDEX delivery_retry_held_idx');
    await runner.query('DROP INDEX delivery_retry_endpoint_due_idx');
    await runner.query('CREATE INDEX delivery_retry_due_idx ON delivery_retry (next_attempt_at) WHERE failed_at IS NULL');
    await runner.query('DROP INDEX delivery_retry_ready_idx');
    await runner.query('ALTER TABLE delivery_retry DROP COLUMN held');
  }
}
