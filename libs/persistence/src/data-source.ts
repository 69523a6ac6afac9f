import { DataSource } from 'typeorm';
import pg from 'pg';
import { EndpointEntity } from './endpoint.entity.js';
import { DeliveryAttemptEntity } from './delivery-attempt.entity.js';
import { EventFilterEntity } from './event-filter.entity.js';
import { LostEventEntity } from './lost-event.entity.js';
import { DeliveryRetryEntity } from './delivery-retry.entity.js';
import { ProfileEntity } from './profile.entity.js';
import { CreateEndpoints1764400000000 } from './migrations/1764400000000-CreateEndpoints.js';
import { CreateEventFilters1764500000000 } from './migrations/1764500000000-CreateEventFilters.js';
import { WebhookDelivery1764600000000 } from './migrations/1764600000000-WebhookDelivery.js';
import { ProfilesAndLostEvents1764700000000 } from './migrations/1764700000000-ProfilesAndLostEvents.js';
import { OutageSafeWrites1764800000000 } from './migrations/1764800000000-OutageSafeWrites.js';
import { EndpointHealth1764900000000 } from './migrations/1764900000000-EndpointHealth.js';
import { ConfigVersions1765000000000 } from './migrations/1765000000000-ConfigVersions.js';
import { PruneIndexes1765300000000 } from './migrations/1765300000000-PruneIndexes.js';
import { LostEventsAsDelivered1765100000000 } from './migrations/1765100000000-LostEventsAsDelivered.js';
import { HeldRetries1765200000000 } from './migrations/1765200000000-HeldRetries.js';
import { ApiTokenEntity } from './api-token.entity.js';
import { ApiTokens1765400000000 } from './migrations/1765400000000-ApiTokens.js';
import { SealedSecrets1765500000000 } from './migrations/1765500000000-SealedSecrets.js';
import { AcceptedAt1765600000000 } from './migrations/1765600000000-AcceptedAt.js';
import { HealthOnlyInConfigBucket1765700000000 } from './migrations/1765700000000-HealthOnlyInConfigBucket.js';
import { ScopedTokens1765800000000 } from './migrations/1765800000000-ScopedTokens.js';
import { ReplayJobs1765900000000 } from './migrations/1765900000000-ReplayJobs.js';
import { ReplayJobEntity } from './replay-job.entity.js';
import { ReplayProgressEntity } from './replay-progress.entity.js';
import { DeadLetterEntity } from './dead-letter.entity.js';
import { DeadLetters1766000000000 } from './migrations/1766000000000-DeadLetters.js';
import { AgentEntity } from './agent.entity.js';
import { Agents1766100000000 } from './migrations/1766100000000-Agents.js';
import { ProfileHistory1766200000000 } from './migrations/1766200000000-ProfileHistory.js';
import { FirstAttemptOrder1766300000000 } from './migrations/1766300000000-FirstAttemptOrder.js';

import { grantAppRoles, type DatabaseApp } from './database-roles.js';

export interface DatabaseSettings {
  url: string;
  /** Every table lives in this schema (tests use one each). */
  schema: string;
}

export const ENTITIES = [EndpointEntity, EventFilterEntity, DeliveryAttemptEntity, DeliveryRetryEntity, LostEventEntity, ProfileEntity, ApiTokenEntity, ReplayJobEntity, ReplayProgressEntity, DeadLetterEntity, AgentEntity];
export const MIGRATIONS = [CreateEndpoints1764400000000, CreateEventFilters1764500000000, WebhookDelivery1764600000000, ProfilesAndLostEvents1764700000000, OutageSafeWrites1764800000000, EndpointHealth1764900000000, ConfigVersions1765000000000, LostEventsAsDelivered1765100000000, HeldRetries1765200000000, PruneIndexes1765300000000, ApiTokens1765400000000, SealedSecrets1765500000000, AcceptedAt1765600000000, HealthOnlyInConfigBucket1765700000000, ScopedTokens1765800000000, ReplayJobs1765900000000, DeadLetters1766000000000, Agents1766100000000, ProfileHistory1766200000000, FirstAttemptOrder1766300000000];

/**
 * A data source bound to one schema; tables are never synchronised, only
 * migrated. An app's statements fail after 30 s (a hung network is an
 * outage, not a wait); the migration step's may run as long as they need,
 * but give up after 30 s waiting for a lock the apps hold (the Job retries).
 */
export function createDataSource(settings: DatabaseSettings, { migrating = false }: { migrating?: boolean } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url: settings.url,
    schema: settings.schema,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    // A connection that cannot be made, or a query that hangs on a dead network, fails in
    // seconds rather than never: the caller then waits and retries (an outage, not a poison message).
    extra: {
      options: `-c search_path=${settings.schema} ${migrating ? '-c statement_timeout=0 -c lock_timeout=30000' : '-c statement_timeout=30000'}`,
      max: 10,
      connectionTimeoutMillis: 5_000,
      query_timeout: 35_000,
      keepAlive: true,
    },
  });
}

// Serialises migrations across replicas that start together.
const MIGRATION_LOCK = 0x6576_7376;

/**
 * The migration step (`npm run migrate`, the k8s Job, `npm start` first):
 * creates the schema if needed, applies pending migrations and sets each
 * app's role and grants (database-roles.ts), holding an advisory lock so
 * that steps started together do not race. Run as the schema's owner; the
 * apps connect as their roles and never migrate.
 */
export async function migrateDatabase(settings: DatabaseSettings, passwords: Partial<Record<DatabaseApp, string>> = {}): Promise<{ applied: string[]; roles: string[] }> {
  const client = new pg.Client({ connectionString: settings.url });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(settings.schema)}`);
    const dataSource = createDataSource(settings, { migrating: true });
    await dataSource.initialize();
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      const roles = await grantAppRoles(client, settings.schema, passwords);
      return { applied: applied.map((migration) => migration.name), roles };
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await client.end();
  }
}

/** Thrown while the schema lacks migrations this code needs: the migration step has not run yet (an app waits, not ready). */
export class SchemaNotMigratedError extends Error {
  readonly transient = true;
}

/**
 * Refuses a schema the migration step has not brought up to this code's
 * migrations (newer ones, from a step run for the next version, are fine):
 * apps wait for it rather than migrate themselves.
 */
export async function checkMigrated(dataSource: DataSource, schema: string): Promise<void> {
  const applied = await dataSource.query<Array<{ name: string }>>('SELECT name FROM migrations').catch((error: Error & { code?: string }) => {
    // 42P01: no migrations table yet (TypeORM's error carries the driver's code).
    if (error.code === '42P01') return [];
    throw error;
  });
  const names = new Set(applied.map((row) => row.name));
  const pending = MIGRATIONS.map((migration) => migration.name).filter((name) => !names.has(name));
  if (pending.length > 0) {
    throw new SchemaNotMigratedError(`schema ${schema} lacks ${pending.length} migrations (${pending.join(', ')}): waiting for the migration step (npm run migrate, or the k8s Job)`);
  }
}
