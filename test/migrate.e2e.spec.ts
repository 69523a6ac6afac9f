import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { DATABASE_APPS, dropAppRoles, MIGRATIONS, roleOf, TABLE_GRANTS, urlAs, type DatabaseApp } from '@app/persistence';
import { projectRoot } from '../scripts/local-stack.js';
import { AppProcess } from './support/app-process.js';
import { freePort } from './support/ports.js';
import { DATABASE_URL, NATS_URL } from './support/stack.js';
import { waitFor } from './support/wait.js';

const PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

/** `npm run migrate` (dist/scripts/migrate.js): the migration step the k8s Job and `npm start` run before the apps, which never migrate. */
describe('the migration step and the apps’ own roles', () => {
  const schema = `m${randomBytes(4).toString('hex')}`;
  const passwords = Object.fromEntries(DATABASE_APPS.map((app) => [app, randomBytes(12).toString('hex')])) as Record<DatabaseApp, string>;
  const migrate = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, ['dist/scripts/migrate.js'], { cwd: projectRoot(), env: { PATH: process.env.PATH, DATABASE_URL, ...env }, encoding: 'utf8' });
  const clients: pg.Client[] = [];
  const connectAs = async (app: DatabaseApp) => {
    const client = new pg.Client({ connectionString: urlAs(DATABASE_URL, roleOf(schema, app), passwords[app]), options: `-c search_path=${schema}` });
    await client.connect();
    clients.push(client);
    return client;
  };
  let waiting: AppProcess | null = null;

  afterAll(async () => {
    await waiting?.stop();
    await Promise.all(clients.map((client) => client.end()));
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await dropAppRoles(db, schema);
    await db.end();
  });

  it('keeps an app that starts first waiting, not ready, until the step has run; then makes the schema and applies every migration once', async () => {
    const health = await freePort();
    waiting = AppProcess.spawn('webhook-dispatcher', {
      PATH: process.env.PATH,
      NATS_URL,
      NATS_PREFIX: `t${randomBytes(4).toString('hex')}`,
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      HEALTH_PORT: String(health),
    });
    const postgresCheck = async () => {
      const response = await fetch(`http://127.0.0.1:${health}/readyz`).catch(() => null);
      return response ? ((await response.json()) as { checks: Record<string, boolean> }).checks['postgres'] : undefined;
    };
    await waitFor(async () => (await postgresCheck()) === false && /waiting for the migration step/.test(waiting!.output()), { what: 'the dispatcher to wait for the migration step' });

    const passwordVars = Object.fromEntries(DATABASE_APPS.map((app) => [`${app.toUpperCase().replaceAll('-', '_')}_DATABASE_PASSWORD`, passwords[app]]));
    const first = migrate({ DATABASE_SCHEMA: schema, ...passwordVars });
    expect([first.status, first.stdout]).toEqual([0, expect.stringContaining(`applied ${MIGRATIONS.length} migrations to ${schema}`)]);
    expect(first.stdout).toContain(`roles: ${DATABASE_APPS.map((app) => roleOf(schema, app)).join(', ')} (passwords set: ${DATABASE_APPS.join(', ')})`);
    await waitFor(async () => (await postgresCheck()) === true, { what: 'the dispatcher to use the migrated schema' });
    const again = migrate({ DATABASE_SCHEMA: schema });
    expect([again.status, again.stdout.split('\n')[0]]).toEqual([0, `${schema} is up to date`]);
  });

  it('gives each app a role that writes its own tables and reads only those the design lists: no other table, no DDL', async () => {
    const owner = new pg.Client({ connectionString: DATABASE_URL });
    await owner.connect();
    clients.push(owner);
    const { rows: tables } = await owner.query<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name <> $2', [schema, 'migrations']);
    for (const app of DATABASE_APPS) {
      const { writes, reads } = TABLE_GRANTS[app];
      for (const { table_name: table } of tables) {
        const expected = writes.includes(table) ? [...PRIVILEGES] : reads.includes(table) ? ['SELECT'] : [];
        const held = [];
        for (const privilege of PRIVILEGES) {
          const { rows } = await owner.query<{ held: boolean }>('SELECT has_table_privilege($1, $2, $3) AS held', [roleOf(schema, app), `${schema}.${table}`, privilege]);
          if (rows[0]!.held) held.push(privilege);
        }
        expect({ app, table, held }).toEqual({ app, table, held: expected });
      }
    }

    // As the apps connect: another app's table and any DDL are refused by PostgreSQL itself.
    const refusal = (query: Promise<unknown>) => query.then(() => 'allowed', (error: { code?: string }) => error.code);
    const dispatcher = await connectAs('webhook-dispatcher');
    expect(await refusal(dispatcher.query('DELETE FROM endpoint'))).toBe('42501');
    expect(await refusal(dispatcher.query('SELECT count(*) FROM api_token'))).toBe('42501');
    expect(await refusal(dispatcher.query('SELECT count(*) FROM delivery_retry'))).toBe('allowed');
    const api = await connectAs('api');
    expect(await refusal(api.query(`INSERT INTO delivery_attempt (endpoint_id, event_id) VALUES (gen_random_uuid(), 'x')`))).toBe('42501');
    expect(await refusal(api.query('SELECT count(*) FROM delivery_attempt'))).toBe('allowed');
    expect(await refusal(api.query('DROP TABLE endpoint'))).toBe('42501');
    const profileSync = await connectAs('profile-sync');
    expect(await refusal(profileSync.query('SELECT count(*) FROM endpoint'))).toBe('42501');
    expect(await refusal(profileSync.query('CREATE TABLE stolen (id int)'))).toBe('42501');
  });

  it('refuses a bad schema name, naming the variable', () => {
    const refused = migrate({ DATABASE_SCHEMA: 'Not A Schema' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('DATABASE_SCHEMA');
  });
});
