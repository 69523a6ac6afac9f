import { Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource, migrateDatabase, type DatabaseSettings } from './data-source.js';

@Injectable()
class DataSourceLifecycle implements OnApplicationShutdown {
  constructor(private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** The app's PostgreSQL data source, migrated before first use when `migrate` is set. */
@Module({})
export class DatabaseModule {
  static forRoot(settings: DatabaseSettings, migrate: boolean): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [
        {
          provide: DataSource,
          useFactory: async (): Promise<DataSource> => {
            if (migrate) {
              const applied = await migrateDatabase(settings);
              if (applied.length > 0) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
            }
            return createDataSource(settings).initialize();
          },
        },
        DataSourceLifecycle,
      ],
      exports: [DataSource],
    };
  }
}
