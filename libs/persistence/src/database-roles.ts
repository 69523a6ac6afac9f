import pg from 'pg';

/** The apps that use PostgreSQL, each as a role of its own. */
export const DATABASE_APPS = ['api', 'webhook-dispatcher', 'profile-sync'] as const;
export type DatabaseApp = (typeof DATABASE_APPS)[number];

/**
 * What each app's role may do: write (SELECT, INSERT, UPDATE, DELETE) the
 * tables it owns, read those the design lists (the api reads the delivery
 * log, the failed deliveries it resends, the lost events and the dead letters; the dispatcher
 * checks that an endpoint exists), and draw from the sequences its inserts
 * use. Nothing else: no DDL, no other app's tables. test/layers.spec.ts holds
 * the writes to the code that writes each table.
 */
export const TABLE_GRANTS: Record<DatabaseApp, { writes: string[]; reads: string[]; sequences: string[] }> = {
  api: {
    writes: ['endpoint', 'event_filter', 'event_filter_endpoint', 'api_token', 'replay_job', 'agent'],
    reads: ['delivery_attempt', 'delivery_retry', 'lost_event', 'replay_progress', 'dead_letter'],
    sequences: ['config_version'],
  },
  'webhook-dispatcher': {
    writes: ['delivery_retry', 'delivery_attempt', 'replay_progress', 'dead_letter'],
    reads: ['endpoint', 'replay_job'],
    sequences: ['delivery_retry_id_seq', 'delivery_attempt_id_seq'],
  },
  'profile-sync': {
    writes: ['profile', 'lost_event'],
    reads: [],
    sequences: ['lost_event_id_seq'],
  },
};

/** The migrations table: every app reads it, to wait until the migration step has run. */
const MIGRATIONS_TABLE = 'migrations';

/**
 * An app's role, named by its schema: `<schema>_api`,
 * `<schema>_webhook_dispatcher`, `<schema>_profile_sync`. Roles are the
 * server's, not a database's: installations sharing a PostgreSQL server need
 * schemas of different names (DATABASE_SCHEMA is at most 44 characters, so
 * the longest role name stays within PostgreSQL's 63).
 */
export function roleOf(schema: string, app: DatabaseApp): string {
  return `${schema}_${app.replaceAll('-', '_')}`;
}

/** A PostgreSQL URL with another user and password: what each app connects with. */
export function urlAs(url: string, user: string, password: string | undefined): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = password === undefined ? '' : encodeURIComponent(password);
  return parsed.toString();
}

/**
 * Makes each app's role (LOGIN, when missing; a password when given) and
 * sets its grants on the schema to exactly TABLE_GRANTS: whatever else it
 * held there is revoked. Run by the migration step, as the schema's owner
 * with CREATEROLE (or after the roles were made by hand: docs/operations.md).
 */
export async function grantAppRoles(client: pg.Client, schema: string, passwords: Partial<Record<DatabaseApp, string>> = {}): Promise<string[]> {
  const id = (name: string) => client.escapeIdentifier(name);
  const roles: string[] = [];
  for (const app of DATABASE_APPS) {
    const role = roleOf(schema, app);
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (rowCount === 0) {
      await client.query(`CREATE ROLE ${id(role)} LOGIN`).catch((error: Error & { code?: string }) => {
        // 42710: made meanwhile by another migration step.
        if (error.code === '42710') return;
        if (error.code === '42501') throw new Error(`cannot create role ${role}: the migration step needs CREATEROLE, or make it first: CREATE ROLE ${role} LOGIN PASSWORD '…'`);
        throw error;
      });
    }
    const password = passwords[app];
    if (password) {
      await client.query(`ALTER ROLE ${id(role)} PASSWORD ${client.escapeLiteral(password)}`).catch((error: Error & { code?: string }) => {
        if (error.code === '42501') throw new Error(`cannot set role ${role}'s password: the migration step needs CREATEROLE, or leave ${app.toUpperCase().replaceAll('-', '_')}_DATABASE_PASSWORD unset for roles made by hand`);
        throw error;
      });
    }
    const { writes, reads, sequences } = TABLE_GRANTS[app];
    const tables = (names: string[]) => names.map((name) => `${id(schema)}.${id(name)}`).join(', ');
    // In one transaction: a running app never sees its grants gone between the revoke and the grant.
    await client.query('BEGIN');
    try {
      await client.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${id(schema)} FROM ${id(role)}`);
      await client.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${id(schema)} FROM ${id(role)}`);
      await client.query(`GRANT USAGE ON SCHEMA ${id(schema)} TO ${id(role)}`);
      await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${tables(writes)} TO ${id(role)}`);
      await client.query(`GRANT SELECT ON ${tables([...reads, MIGRATIONS_TABLE])} TO ${id(role)}`);
      await client.query(`GRANT USAGE, SELECT ON ${tables(sequences)} TO ${id(role)}`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
    roles.push(role);
  }
  return roles;
}

/** Removes the apps' roles of a schema (a test's, at its end): their grants went with the schema. */
export async function dropAppRoles(client: pg.Client, schema: string): Promise<void> {
  for (const app of DATABASE_APPS) await client.query(`DROP ROLE IF EXISTS ${client.escapeIdentifier(roleOf(schema, app))}`);
}
