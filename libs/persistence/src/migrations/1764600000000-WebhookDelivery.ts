import type { MigrationInterface, QueryRunner } from 'typeorm';

export class WebhookDelivery1764600000000 implements MigrationInterface {
  name = 'WebhookDelivery1764600000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE endpoint
        ADD COLUMN signing_secret text,
        ADD COLUMN previous_signing_secret text,
        ADD COLUMN previous_secret_expires_at timestamptz,
        ADD COLUMN custom_headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        ADD COLUMN state text NOT NULL DEFAULT 'ACTIVE'
          CHECK (state IN ('ACTIVE', 'PAUSED_BY_FAILURES', 'DISABLED_GONE', 'PAUSED_BY_HAND'))`);
    // Deliveries waiting for their next attempt (kept here, not as pending naks in
    // JetStream), and failed ones (failed_at set), kept with their body so they can be resent.
    await runner.query(`
      CREATE TABLE delivery_retry (
        id bigserial PRIMARY KEY,
        endpoint_id uuid NOT NULL REFERENCES endpoint (id) ON DELETE CASCADE,
        event_id text NOT NULL,
        body bytea NOT NULL,
        attempt integer NOT NULL,
        next_attempt_at timestamptz NOT NULL,
        locked_until timestamptz,
        failed_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (endpoint_id, event_id)
      )`);
    await runner.query('CREATE INDEX delivery_retry_due_idx ON delivery_retry (next_attempt_at) WHERE failed_at IS NULL');
    await runner.query(`
      CREATE TABLE delivery_attempt (
        id bigserial PRIMARY KEY,
        endpoint_id uuid NOT NULL,
        event_id text NOT NULL,
        attempt integer NOT NULL,
        attempted_at timestamptz NOT NULL,
        status_code integer,
        duration_ms integer NOT NULL,
        error text,
        response_body text,
        outcome text NOT NULL CHECK (outcome IN ('SUCCEEDED', 'RETRYING', 'FAILED'))
      )`);
    await runner.query('CREATE INDEX delivery_attempt_endpoint_idx ON delivery_attempt (endpoint_id, attempted_at)');
    await runner.query('CREATE INDEX delivery_attempt_event_idx ON delivery_attempt (event_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE delivery_attempt');
    await runner.query('DROP TABLE delivery_retry');
    await runner.query(
      'ALTER TABLE endpoint DROP COLUMN signing_secret, DROP COLUMN previous_signing_secret, DROP COLUMN previous_secret_expires_at, DROP COLUMN custom_headers, DROP COLUMN state',
    );
  }
}
