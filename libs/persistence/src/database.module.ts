import { Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HealthServer, retryWhileTransient } from '@app/runtime';
import { createDataSource, migrateDatabase, type DatabaseSettings } from './data-source.js';

const PING_INTERVAL_MS = 2_000;
const PING_TIMEOUT_MS = 3_000;

/**
 * Reports PostgreSQL in readiness (a ping every two seconds), and closes the
 * data source last.
 */
@Injectable()
class DatabaseLifecycle implements OnModuleInit, OnApplicationShutdown {
  private reachable = false;
  private pinging = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly health: HealthServer,
  ) {}

  onModuleInit(): void {
    this.health.addDependency('postgres', () => this.reachable);
    void this.ping();
    this.timer = setInterval(() => void this.ping(), PING_INTERVAL_MS);
  }

  /** One ping at a time; one that does not answer within PING_TIMEOUT_MS (a network that drops rather than refuses) counts as unreachable. */
  private async ping(): Promise<void> {
    if (this.pinging) return;
    this.pinging = true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS)));
    const answered = this.dataSource.query('SELECT 1').then(
      () => true,
      () => false,
    );
    this.reachable = await Promise.race([answered, timeout]);
    clearTimeout(timer);
    // The next ping waits for this query to end, so pings never pile up on a hung connection.
    await answered;
    this.pinging = false;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    backgroundStops.get(this.dataSource)?.();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Connects `dataSource` (migrating first, when asked), waiting for
 * PostgreSQL for as long as it is away: a pod may start before the database,
 * or during its outage.
 */
function connect(dataSource: DataSource, settings: DatabaseSettings, migrate: boolean, stopped?: () => boolean): Promise<DataSource> {
  // A failing migration or a wrong password will not heal by waiting: start-up fails with its reason.
  return retryWhileTransient(
    'connecting to PostgreSQL',
    async () => {
      if (migrate) {
        const applied = await migrateDatabase(settings);
        if (applied.length > 0) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
      }
      return dataSource.initialize();
    },
    // A half-made connection pool is closed before the next try.
    { afterFailure: () => dataSource.driver.disconnect().catch(() => undefined), stopped },
  );
}

export interface DatabaseOptions {
  /** Apply pending migrations before first use (under an advisory lock). */
  migrate: boolean;
  /**
   * false: start without waiting for PostgreSQL, connecting in the
   * background; until then queries fail as an outage does (for an app whose
   * main work needs no PostgreSQL: the webhook-dispatcher).
   */
  waitAtStart?: boolean;
}

/** The app's PostgreSQL data source, migrated before first use when asked. */
@Module({})
export class DatabaseModule {
  static forRoot(settings: DatabaseSettings, options: DatabaseOptions): DynamicModule {
    const { migrate, waitAtStart = true } = options;
    return {
      module: DatabaseModule,
      global: true,
      providers: [
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = createDataSource(settings);
            if (waitAtStart) return connect(dataSource, settings, migrate);
            let shutdown = false;
            void connect(dataSource, settings, migrate, () => shutdown).catch((error: Error) => {
              if (shutdown) return;
              // What waiting cannot fix (a failing migration, a wrong password) ends the process, as at start.
              new Logger('Database').fatal(`start-up failed: cannot use PostgreSQL: ${error.message}`);
              process.exit(1);
            });
            backgroundStops.set(dataSource, () => (shutdown = true));
            return dataSource;
          },
        },
        DatabaseLifecycle,
      ],
      exports: [DataSource],
    };
  }
}

const backgroundStops = new WeakMap<DataSource, () => void>();
