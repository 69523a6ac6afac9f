export { createDataSource, migrateDatabase, ENTITIES, MIGRATIONS, type DatabaseSettings } from './data-source.js';
export { EndpointEntity } from './endpoint.entity.js';
