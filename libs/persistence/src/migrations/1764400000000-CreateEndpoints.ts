import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateEndpoints1764400000000 implements MigrationInterface {
  name = 'CreateEndpoints1764400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE endpoint (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        type text NOT NULL CHECK (type IN ('WEB_SOCKET', 'WEB_HOOK')),
        meta jsonb NOT NULL DEFAULT '{}'::jsonb,
        creation_date timestamptz NOT NULL DEFAULT now(),
        last_modified timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX endpoint_creation_date_idx ON endpoint (creation_date, id)');
    await runner.query('CREATE INDEX endpoint_type_idx ON endpoint (type)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE endpoint');
  }
}
