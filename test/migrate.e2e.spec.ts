import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { MIGRATIONS } from '@app/persistence';
import { projectRoot } from '../scripts/local-stack.js';
import { DATABASE_URL } from './support/stack.js';

/** `npm run migrate` (dist/scripts/migrate.js): the migration step a job runs before apps started with DATABASE_MIGRATE=false. */
describe('the migration step', () => {
  const schema = `m${randomBytes(4).toString('hex')}`;
  const migrate = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['dist/scripts/migrate.js'], { cwd: projectRoot(), env: { PATH: process.env.PATH, DATABASE_URL, ...env }, encoding: 'utf8' });

  afterAll(async () => {
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.end();
  });

  it('makes the schema and applies every migration, then finds nothing to do', async () => {
    const first = migrate({ DATABASE_SCHEMA: schema });
    expect([first.status, first.stdout]).toEqual([0, expect.stringContaining(`applied ${MIGRATIONS.length} migrations to ${schema}`)]);
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    const { rows } = await db.query<{ count: string }>(`SELECT count(*) FROM ${schema}.migrations`);
    await db.end();
    expect(Number(rows[0]!.count)).toBe(MIGRATIONS.length);
    const second = migrate({ DATABASE_SCHEMA: schema });
    expect([second.status, second.stdout.trim()]).toEqual([0, `${schema} is up to date`]);
  });

  it('refuses a bad schema name, naming the variable', () => {
    const refused = migrate({ DATABASE_SCHEMA: 'Not A Schema' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('DATABASE_SCHEMA');
  });
});
