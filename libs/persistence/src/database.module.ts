import { Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { HealthServer, retryWhileTransient } from '@app/runtime';
import { checkMigrated, createDataSource, type DatabaseSettings } from './data-source.js';

const PING_INTERVAL_MS = 2_000;
const PING_TIMEOUT_MS = 3_000;

/**
 * Reports PostgreSQL in readiness (a ping every two seconds, once the schema
 * is known to be migrated), and closes the data source last.
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
    this.health.addDependency('postgres', () => this.reachable && migrated.has(this.dataSource));
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
 * Connects `dataSource` and waits until its schema is migrated, for as long
 * as PostgreSQL is away or the migration step has not run: a pod may start
 * before the database, during its outage, or beside the migration Job. The
 * app never migrates: it connects as its own role, without DDL rights.
 */
function connect(dataSource: DataSource, settings: DatabaseSettings, stopped?: () => boolean): Promise<DataSource> {
  // A wrong password will not heal by waiting: start-up fails with its reason.
  return retryWhileTransient(
    'connecting to PostgreSQL',
    async () => {
      if (!dataSource.isInitialized) await dataSource.initialize();
      await checkMigrated(dataSource, settings.schema);
      migrated.add(dataSource);
      return dataSource;
    },
    // A half-made connection pool is closed before the next try.
    { afterFailure: async () => (dataSource.isInitialized ? undefined : dataSource.driver.disconnect().catch(() => undefined)), stopped },
  );
}

export interface DatabaseOptions {
  /**
   * false: start without waiting for PostgreSQL, connecting in the
   * background; until then queries fail as an outage does (for an app whose
   * main work needs no PostgreSQL: the webhook-dispatcher).
   */
  waitAtStart?: boolean;
}

/** The app's PostgreSQL data source, usable once the migration step has run. */
@Module({})
export class DatabaseModule {
  static forRoot(settings: DatabaseSettings, options: DatabaseOptions = {}): DynamicModule {
    const { waitAtStart = true } = options;
    return {
      module: DatabaseModule,
      global: true,
      providers: [
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = createDataSource(settings);
            if (waitAtStart) return connect(dataSource, settings);
            let shutdown = false;
            void connect(dataSource, settings, () => shutdown).catch((error: Error) => {
              if (shutdown) return;
              // What waiting cannot fix (a wrong password, a missing grant) ends the process, as at start.
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
/** The data sources whose schema the migration step has brought up to this code's migrations. */
const migrated = new WeakSet<DataSource>();
