import { Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { DeletedProfiles, MessagingModule, NatsClient, natsSettings } from '@app/messaging';
import { databaseSettingsOf } from '@app/config';
import { DatabaseModule } from '@app/persistence';
import { HealthServer, RuntimeModule } from '@app/runtime';
import { EventsConsumer } from './events.consumer.js';
import { LostEventsStore } from './lost-events.store.js';
import type { ProfileSyncConfig } from './profile-sync.config.js';
import { PROFILE_SYNC_CONFIG } from './profile-sync.tokens.js';
import { ProfileRegistry } from './profile-registry.js';
import { ProfileSyncMetrics } from './profile-sync.metrics.js';

@Injectable()
class ProfileSyncHealth implements OnModuleInit {
  constructor(
    private readonly health: HealthServer,
    private readonly registry: ProfileRegistry,
  ) {}

  onModuleInit(): void {
    this.health.addStatus(() => ({ profiles: this.registry.size }));
  }
}

@Module({})
export class ProfileSyncModule {
  static forRoot(config: ProfileSyncConfig): DynamicModule {
    return {
      module: ProfileSyncModule,
      imports: [
        RuntimeModule.forRoot('profile-sync', config),
        MessagingModule.forRoot(natsSettings(config, 'profile-sync')),
        // Migrations run under an advisory lock, so profile-sync may start before the api.
        DatabaseModule.forRoot(databaseSettingsOf(config)),
      ],
      providers: [
        { provide: PROFILE_SYNC_CONFIG, useValue: config },
        { provide: DeletedProfiles, inject: [NatsClient], useFactory: (client: NatsClient) => DeletedProfiles.open(client, config.DELETED_PROFILES_MAX_AGE, { owner: true }) },
        ProfileSyncMetrics,
        ProfileRegistry,
        LostEventsStore,
        EventsConsumer,
        ProfileSyncHealth,
      ],
    };
  }
}
