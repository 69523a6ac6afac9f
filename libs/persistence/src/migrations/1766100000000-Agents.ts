import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Agents made through the api: their NATS user key and AGENT token, replaced on rotation, revoked together. */
export class Agents1766100000000 implements MigrationInterface {
  name = 'Agents1766100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE agent (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        user_key text,
        revoked_keys text[] NOT NULL DEFAULT '{}',
        token_id uuid,
        credentials_issued_at timestamptz,
        revoked_at timestamptz,
        creation_date timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX agent_creation_date_idx ON agent (creation_date, id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE agent');
  }
}
