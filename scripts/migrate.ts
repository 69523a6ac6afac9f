import { z } from 'zod';
import { databaseEnv, databaseSettingsOf, loadConfig } from '@app/config';
import { DATABASE_APPS, migrateDatabase, type DatabaseApp } from '@app/persistence';

/** The variable holding an app role's password: API_DATABASE_PASSWORD, WEBHOOK_DISPATCHER_DATABASE_PASSWORD, PROFILE_SYNC_DATABASE_PASSWORD. */
const passwordVar = (app: DatabaseApp): string => `${app.toUpperCase().replaceAll('-', '_')}_DATABASE_PASSWORD`;

/**
 * `npm run migrate` (`node dist/scripts/migrate.js` in the image: the
 * Kubernetes Job, k8s/migrate.yaml; `npm start` does the same first): as
 * DATABASE_URL's user (the schema's owner, with CREATEROLE), creates
 * DATABASE_SCHEMA if needed, applies the pending migrations and sets each
 * app's role and grants (`<schema>_api`, `<schema>_webhook_dispatcher`,
 * `<schema>_profile_sync`), with the passwords given, under an advisory lock;
 * then exits. The apps never migrate: they wait for this step.
 */
const password = z.string().min(16, 'at least 16 characters').optional();
const config = loadConfig(z.object({ ...databaseEnv, ...Object.fromEntries(DATABASE_APPS.map((app) => [passwordVar(app), password])) }), process.env) as z.infer<z.ZodObject<typeof databaseEnv>> &
  Record<string, string | undefined>;
const passwords: Partial<Record<DatabaseApp, string>> = {};
for (const app of DATABASE_APPS) if (config[passwordVar(app)]) passwords[app] = config[passwordVar(app)];
const { applied, roles } = await migrateDatabase(databaseSettingsOf(config), passwords);
const schema = config.DATABASE_SCHEMA;
process.stdout.write(applied.length > 0 ? `applied ${applied.length} migrations to ${schema}: ${applied.join(', ')}\n` : `${schema} is up to date\n`);
process.stdout.write(`roles: ${roles.join(', ')} (passwords set: ${Object.keys(passwords).length > 0 ? Object.keys(passwords).join(', ') : 'none'})\n`);
