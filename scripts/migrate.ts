import { z } from 'zod';
import { databaseEnv, loadConfig } from '@app/config';
import { migrateDatabase } from '@app/persistence';

/**
 * `npm run migrate` (or `node dist/scripts/migrate.js` in the image, as a
 * Kubernetes Job before the apps when they run with DATABASE_MIGRATE=false):
 * creates DATABASE_SCHEMA if needed and applies the pending migrations, under
 * the same advisory lock the apps take at start (migrateDatabase), then exits.
 */
const config = loadConfig(z.object(databaseEnv), process.env);
const applied = await migrateDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
process.stdout.write(applied.length > 0 ? `applied ${applied.length} migrations to ${config.DATABASE_SCHEMA}: ${applied.join(', ')}\n` : `${config.DATABASE_SCHEMA} is up to date\n`);
