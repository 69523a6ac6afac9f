import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateEventFilters1764500000000 implements MigrationInterface {
  name = 'CreateEventFilters1764500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE event_filter (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        camera_ids uuid[] NOT NULL DEFAULT '{}',
        agent_ids uuid[] NOT NULL DEFAULT '{}',
        profile_group_ids uuid[] NOT NULL DEFAULT '{}',
        event_types text[] NOT NULL DEFAULT '{}',
        creation_date timestamptz NOT NULL DEFAULT now(),
        last_modified timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX event_filter_creation_date_idx ON event_filter (creation_date, id)');
    await runner.query('CREATE INDEX event_filter_last_modified_idx ON event_filter (last_modified, id)');
    // Deleting an endpoint detaches it from its filters; the filters stay.
    await runner.query(`
      CREATE TABLE event_filter_endpoint (
        event_filter_id uuid NOT NULL REFERENCES event_filter (id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES endpoint (id) ON DELETE CASCADE,
        PRIMARY KEY (event_filter_id, endpoint_id)
      )`);
    await runner.query('CREATE INDEX event_filter_endpoint_endpoint_idx ON event_filter_endpoint (endpoint_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE event_filter_endpoint');
    await runner.query('DROP TABLE event_filter');
  }
}
