import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A lost event is kept as it would have been delivered, in the agent's key
 * order: `jsonb` sorts an object's keys, `json` keeps the text as written.
 * Events stored before this change keep the order jsonb gave them. Event
 * ids are compared by their lower-case key (docs/architecture.md).
 */
export class LostEventsAsDelivered1765100000000 implements MigrationInterface {
  name = 'LostEventsAsDelivered1765100000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE lost_event ALTER COLUMN event TYPE json USING event::json');
    // Ids written before keys were lower-cased; a clash (the same event in two spellings) keeps the first.
    await runner.query(`
      DELETE FROM lost_event later USING lost_event earlier
      WHERE lower(later.event_id) = lower(earlier.event_id) AND later.id > earlier.id`);
    await runner.query('UPDATE lost_event SET event_id = lower(event_id) WHERE event_id <> lower(event_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE lost_event ALTER COLUMN event TYPE jsonb USING event::jsonb');
  }
}
