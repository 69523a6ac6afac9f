import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every endpoint and filter row carries a version from one sequence, set by
 * the database on every change (a filter's too when its endpoints change):
 * the config bucket's copy of a row is replaced only by a higher version, so
 * the bucket never goes backwards, whichever api replica publishes and in
 * whatever order.
 */
export class ConfigVersions1765000000000 implements MigrationInterface {
  name = 'ConfigVersions1765000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE SEQUENCE config_version');
    await runner.query(`ALTER TABLE endpoint ADD COLUMN version bigint NOT NULL DEFAULT nextval('config_version')`);
    await runner.query(`ALTER TABLE event_filter ADD COLUMN version bigint NOT NULL DEFAULT nextval('config_version')`);
    await runner.query(`
      CREATE FUNCTION next_config_version() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        NEW.version := nextval('config_version');
        RETURN NEW;
      END $$`);
    await runner.query('CREATE TRIGGER endpoint_version BEFORE UPDATE ON endpoint FOR EACH ROW EXECUTE FUNCTION next_config_version()');
    await runner.query('CREATE TRIGGER event_filter_version BEFORE UPDATE ON event_filter FOR EACH ROW EXECUTE FUNCTION next_config_version()');
    // Attaching or detaching an endpoint (deleting one detaches it) is a change of the filter.
    await runner.query(`
      CREATE FUNCTION touch_event_filter() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE event_filter SET version = 0 WHERE id = COALESCE(NEW.event_filter_id, OLD.event_filter_id);
        RETURN NULL;
      END $$`);
    await runner.query('CREATE TRIGGER event_filter_endpoint_version AFTER INSERT OR DELETE ON event_filter_endpoint FOR EACH ROW EXECUTE FUNCTION touch_event_filter()');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TRIGGER event_filter_endpoint_version ON event_filter_endpoint');
    await runner.query('DROP FUNCTION touch_event_filter()');
    await runner.query('DROP TRIGGER event_filter_version ON event_filter');
    await runner.query('DROP TRIGGER endpoint_version ON endpoint');
    await runner.query('DROP FUNCTION next_config_version()');
    await runner.query('ALTER TABLE event_filter DROP COLUMN version');
    await runner.query('ALTER TABLE endpoint DROP COLUMN version');
    await runner.query('DROP SEQUENCE config_version');
  }
}
