import { z } from 'zod';
import { databaseEnv, databaseSettingsOf, loadConfig } from '@app/config';
import { DATABASE_APPS, migrateDatabase, type DatabaseApp } from '@app/persistence';

/** The variable holding an app role's password: API_DATABASE_PASSWORD, WEBHOOK_DISPATCHER_DATABASE_PASSWORD, PROFILE_SYNC_DATABASE_PASSWORD. */
export const passwordVar = (app: DatabaseApp): string => `${app.toUpperCase().replaceAll('-', '_')}_DATABASE_PASSWORD`;

/**
 * The migration step, as `npm run migrate`, `npx event-service migrate`, the
 * image's `node dist/scripts/migrate.js` (the Kubernetes Job) and the compose
 * `migrate` service run it: as DATABASE_URL's user (the schema's owner, with
 * CREATEROLE), creates DATABASE_SCHEMA if needed, applies the pending
 * migrations and sets each app's role and grants (`<schema>_api`,
 * `<schema>_webhook_dispatcher`, `<schema>_profile_sync`), with the passwords
 * the environment gives, under an advisory lock. Returns what it says it did.
 */
export async function runMigrationStep(env: NodeJS.ProcessEnv): Promise<string[]> {
  const password = z.string().min(16, 'at least 16 characters').optional();
  const config = loadConfig(z.object({ ...databaseEnv, ...Object.fromEntries(DATABASE_APPS.map((app) => [passwordVar(app), password])) }), env) as z.infer<z.ZodObject<typeof databaseEnv>> &
    Record<string, string | undefined>;
  const passwords: Partial<Record<DatabaseApp, string>> = {};
  for (const app of DATABASE_APPS) if (config[passwordVar(app)]) passwords[app] = config[passwordVar(app)];
  const { applied, roles } = await migrateDatabase(databaseSettingsOf(config), passwords);
  const schema = config.DATABASE_SCHEMA;
  return [
    applied.length > 0 ? `applied ${applied.length} migrations to ${schema}: ${applied.join(', ')}` : `${schema} is up to date`,
    `roles: ${roles.join(', ')} (passwords set: ${Object.keys(passwords).length > 0 ? Object.keys(passwords).join(', ') : 'none'})`,
  ];
}
