import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource, migrateDatabase, type DatabaseSettings } from '@app/persistence';

/** The api's PostgreSQL data source, migrated before first use when configured to. */
export function dataSourceProvider(settings: DatabaseSettings, migrate: boolean) {
  return {
    provide: DataSource,
    useFactory: async (): Promise<DataSource> => {
      if (migrate) {
        const applied = await migrateDatabase(settings);
        if (applied.length > 0) new Logger('Database').log(`applied migrations: ${applied.join(', ')}`);
      }
      return createDataSource(settings).initialize();
    },
  };
}

@Injectable()
export class DataSourceLifecycle implements OnApplicationShutdown {
  constructor(private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
