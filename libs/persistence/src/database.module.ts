import { Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { backoffMs, HealthServer, isTransientFailure } from '@app/runtime';
import { createDataSource, migrateDatabase, type DatabaseSettings } from './data-source.js';

const PING_INTERVAL_MS = 2_000;

/**
 * Reports PostgreSQL in readiness (a ping every two seconds), and closes the
 * data source last.
 */
@Injectable()
class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  private reachable = true;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthServer,
  ) {}

  onModuleInit(): void {
    this.health.addDependency('postgres', () => this.reachable);
    this.timer = setInterval(() => void this.ping(), PING_INTERVAL_MS);
  }

  private async ping(): Promise<void> {
    this.reachable = await this.dataSource.query('SELECT 1').then(
      () => true,
      () => false,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Connects (and migrates, when asked), waiting for PostgreSQL for as long as
 * it is away: a pod may start before the database, or during its outage.
 */
async function connect(settings: DatabaseSettings, migrate: boolean): Promise<DataSource> {
  const logger = new Logger('Database');
  for (let failures = 1; ; failures += 1) {
    try {
      if (migrate) {
        const applied = await migrateDatabase(settings);
        if (applied.length > 0) logger.log(`applied migrations: ${applied.join(', ')}`);
      }
      return await createDataSource(settings).initialize();
    } catch (error) {
      // A failing migration or a wrong password will not heal by waiting: start-up fails with its reason.
      if (!isTransientFailure(error)) throw error;
      const delay = backoffMs(failures, 500, 10_000);
      logger.warn(`PostgreSQL is not reachable (${(error as Error).message}); retrying in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** The app's PostgreSQL data source, migrated before first use when `migrate` is set. */
@Module({})
export class DatabaseModule {
  static forRoot(settings: DatabaseSettings, migrate: boolean): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [{ provide: DataSource, useFactory: () => connect(settings, migrate) }, DatabaseLifecycle],
      exports: [DataSource],
    };
  }
}
