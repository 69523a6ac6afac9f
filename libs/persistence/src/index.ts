export { createDataSource, migrateDatabase, ENTITIES, MIGRATIONS, type DatabaseSettings } from './data-source.js';
export { EndpointEntity } from './endpoint.entity.js';
export { EventFilterEntity } from './event-filter.entity.js';
export { DatabaseModule } from './database.module.js';
export { DeliveryAttemptEntity } from './delivery-attempt.entity.js';
export { DeliveryRetryEntity } from './delivery-retry.entity.js';
export { LostEventEntity } from './lost-event.entity.js';
export { ProfileEntity } from './profile.entity.js';
export { EndpointHealthEntity } from './endpoint-health.entity.js';
