import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Named API tokens with scopes, kept as hashes; versioned like endpoints, since they travel to ingest through the config bucket. */
export class ApiTokens1765400000000 implements MigrationInterface {
  name = 'ApiTokens1765400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE api_token (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        scope text NOT NULL CHECK (scope IN ('ADMIN', 'AGENT', 'READ_ONLY')),
        agent_ids text[] NOT NULL DEFAULT '{}',
        token_hash text NOT NULL UNIQUE,
        revoked_at timestamptz,
        version bigint NOT NULL DEFAULT nextval('config_version'),
        creation_date timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE TRIGGER api_token_version BEFORE UPDATE ON api_token FOR EACH ROW EXECUTE FUNCTION next_config_version()');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE api_token');
  }
}
