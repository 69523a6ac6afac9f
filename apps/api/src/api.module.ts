import { Module, type DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { Request } from 'express';
import type { GraphQLError } from 'graphql';
import { ConfigPublisherModule, ConfigViewModule, MessagingModule, natsSettings } from '@app/messaging';
import { DatabaseModule } from '@app/persistence';
import { isTransientFailure, RuntimeModule, TokenSet } from '@app/runtime';
import { SecretBox } from '@app/webhooks';
import type { ApiConfig } from './api.config.js';
import { API_CONFIG, API_TOKENS } from './api.tokens.js';
import { ConfigSync } from './config-sync.js';
import { EndpointUseCases } from './endpoints/endpoint-usecases.js';
import { EndpointsResolver } from './endpoints/endpoints.resolver.js';
import { EventFilterUseCases } from './event-filters/event-filter-usecases.js';
import { EventFiltersResolver } from './event-filters/event-filters.resolver.js';
import { DeliveriesResolver } from './deliveries/deliveries.resolver.js';
import { DeliveryUseCases } from './deliveries/delivery.usecases.js';
import { ProfileCheck } from './deliveries/profile-check.js';
import { TokenGuard } from './graphql/token.guard.js';
import { LostEventsResolver, LostEventUseCases } from './lost-events/lost-events.resolver.js';
import { WebhookSecretResolver } from './webhook-secrets/webhook-secret.resolver.js';
import { WebhookSecretUseCases } from './webhook-secrets/webhook-secret.usecases.js';
import { DashboardController } from './dashboard.controller.js';
import { ImagesController } from './images.controller.js';

export const GRAPHQL_PATH = '/event-service/graphql';

@Module({})
export class ApiModule {
  static forRoot(config: ApiConfig, apiToken: string): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        RuntimeModule.forRoot('api', config.HEALTH_PORT),
        MessagingModule.forRoot(natsSettings(config, 'api')),
        ConfigPublisherModule,
        ConfigViewModule,
        DatabaseModule.forRoot({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA }, { migrate: config.DATABASE_MIGRATE }),
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          path: GRAPHQL_PATH,
          autoSchemaFile: true,
          sortSchema: true,
          playground: false,
          introspection: true,
          includeStacktraceInErrorResponses: false,
          // An outage is an answer too: a clear code the client can retry on, never INTERNAL_SERVER_ERROR.
          formatError: (formatted, error) =>
            isTransientFailure((error as GraphQLError).originalError)
              ? { message: 'a dependency of the API (PostgreSQL or NATS) is not reachable; retry later', extensions: { code: 'UNAVAILABLE' } }
              : formatted,
          context: ({ req }: { req: Request }) => ({ req }),
        }),
      ],
      controllers: [DashboardController, ImagesController],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: API_TOKENS, useValue: new TokenSet([apiToken]) },
        { provide: SecretBox, useValue: new SecretBox(config.CONFIG_SECRET_KEY) },
        ConfigSync,
        EndpointUseCases,
        EndpointsResolver,
        EventFilterUseCases,
        EventFiltersResolver,
        WebhookSecretUseCases,
        WebhookSecretResolver,
        DeliveryUseCases,
        ProfileCheck,
        DeliveriesResolver,
        LostEventUseCases,
        LostEventsResolver,
        TokenGuard,
      ],
    };
  }
}

