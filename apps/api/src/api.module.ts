import { Module, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { ApiLoaders, type ApiContext } from './graphql/loaders.js';
import { graphqlLimits } from './graphql/graphql-edges.js';
import { GraphqlAuthMiddleware } from './graphql/graphql-auth.middleware.js';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import type { Request } from 'express';
import type { GraphQLError } from 'graphql';
import { AccessTokens, ConfigPublisherModule, ConfigViewModule, DeletedProfiles, MessagingModule, NatsClient, natsSettings, SecretsViewModule, TokenScope, TokenView, TokenViewModule } from '@app/messaging';
import { databaseSettingsOf } from '@app/config';
import { DatabaseModule } from '@app/persistence';
import { isTransientFailure, RuntimeModule } from '@app/runtime';
import { SecretBox } from '@app/webhooks';
import type { ApiConfig } from './api.config.js';
import { API_CONFIG, API_TOKENS } from './api.tokens.js';
import { ConfigSync } from './config-sync.js';
import { CreateEndpoint } from './endpoints/create-endpoint.usecase.js';
import { DeleteEndpoint } from './endpoints/delete-endpoint.usecase.js';
import { EndpointRegistry } from './endpoints/endpoint-registry.js';
import { ListEndpoints } from './endpoints/list-endpoints.usecase.js';
import { PauseEndpoint } from './endpoints/pause-endpoint.usecase.js';
import { ResumeEndpoint } from './endpoints/resume-endpoint.usecase.js';
import { UpdateEndpoint } from './endpoints/update-endpoint.usecase.js';
import { RotateWebSocketToken } from './endpoints/rotate-websocket-token.usecase.js';
import { SetWebSocketAccess } from './endpoints/set-websocket-access.usecase.js';
import { CreateEventFilter } from './event-filters/create-event-filter.usecase.js';
import { DeleteEventFilter } from './event-filters/delete-event-filter.usecase.js';
import { EventFilterRegistry } from './event-filters/event-filter-registry.js';
import { ListEventFilters } from './event-filters/list-event-filters.usecase.js';
import { UpdateEventFilter } from './event-filters/update-event-filter.usecase.js';
import { DeliveryHandoff } from './deliveries/delivery-handoff.js';
import { ListDeliveryAttempts } from './deliveries/list-delivery-attempts.usecase.js';
import { CancelReplay } from './replays/cancel-replay.usecase.js';
import { ListReplayJobs } from './replays/list-replay-jobs.usecase.js';
import { StartReplay } from './replays/start-replay.usecase.js';
import { ResendDelivery } from './deliveries/resend-delivery.usecase.js';
import { SendTestEvent } from './deliveries/send-test-event.usecase.js';
import { TokenGuard } from './graphql/token.guard.js';
import { ReadConsumerLag } from './operations/read-consumer-lag.usecase.js';
import { DeleteProfile } from './profiles/delete-profile.usecase.js';
import { UpsertProfile } from './profiles/upsert-profile.usecase.js';
import { API_RESOLVERS } from './graphql/api-schema.js';
import { InputValidationPipe } from './graphql/input-validation.pipe.js';
import { ApiErrorsFilter } from './graphql/api-errors.filter.js';
import { ListLostEvents } from './lost-events/list-lost-events.usecase.js';
import { ActOnDeadLetters } from './dead-letters/act-on-dead-letters.usecase.js';
import { ListDeadLetters } from './dead-letters/list-dead-letters.usecase.js';
import { ReadWebhookSecret } from './webhook-secrets/read-webhook-secret.usecase.js';
import { RotateWebhookSecret } from './webhook-secrets/rotate-webhook-secret.usecase.js';
import { SecretsAtRest } from './webhook-secrets/secrets-at-rest.js';
import { SigningSecrets } from './webhook-secrets/signing-secrets.js';
import { CreateApiToken } from './api-tokens/create-api-token.usecase.js';
import { ListApiTokens } from './api-tokens/list-api-tokens.usecase.js';
import { RevokeApiToken } from './api-tokens/revoke-api-token.usecase.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { DashboardSessions } from './dashboard/dashboard-sessions.js';
import { SessionController } from './dashboard/session.controller.js';
import { ImagesController } from './images.controller.js';
import { MoveCamera } from './cameras/cameras.resolver.js';
import { AgentCredentials } from './agents/agent-credentials.js';
import { AgentRevocations } from './agents/agent-revocations.js';
import { CreateAgent } from './agents/create-agent.usecase.js';
import { ListAgents } from './agents/list-agents.usecase.js';
import { RevokeAgent } from './agents/revoke-agent.usecase.js';
import { RotateAgentCredentials } from './agents/rotate-agent-credentials.usecase.js';

export const GRAPHQL_PATH = '/event-service/graphql';

/**
 * GraphQL's own message for a variable that does not fit the schema quotes
 * the value (`Variable "$headers" got invalid value { value: "<secret>" … }; …`):
 * the value goes, the reason stays. A header value or a secret never comes back in an error.
 */
export function withoutValues(message: string): string {
  const quoted = / got invalid value /.exec(message);
  if (!quoted) return message;
  const reason = message.lastIndexOf('; ');
  return `${message.slice(0, quoted.index)} got an invalid value${reason > quoted.index ? message.slice(reason) : ''}`;
}

const TOO_MANY_VARIABLE_ERRORS = 'Too many errors processing variables, error limit reached. Execution aborted.';

@Module({})
export class ApiModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(GraphqlAuthMiddleware).forRoutes(GRAPHQL_PATH);
  }

  static forRoot(config: ApiConfig, apiToken: string): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        RuntimeModule.forRoot('api', config),
        MessagingModule.forRoot(natsSettings(config, 'api')),
        ConfigPublisherModule,
        ConfigViewModule,
        SecretsViewModule,
        TokenViewModule,
        DatabaseModule.forRoot(databaseSettingsOf(config)),
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => ({
            path: GRAPHQL_PATH,
            autoSchemaFile: true,
            sortSchema: true,
            playground: false,
            // Answered to a valid token only (GraphqlAuthMiddleware).
            introspection: config.GRAPHQL_INTROSPECTION,
            includeStacktraceInErrorResponses: false,
            plugins: [graphqlLimits()],
            // An outage is an answer too: a clear code the client can retry on, never INTERNAL_SERVER_ERROR.
            formatError: (formatted, error) =>
              isTransientFailure((error as GraphQLError).originalError)
                ? { message: 'a dependency of the API (PostgreSQL or NATS) is not reachable; retry later', extensions: { code: 'UNAVAILABLE' } }
                : formatted.message === TOO_MANY_VARIABLE_ERRORS
                  ? { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } }
                  : { ...formatted, message: withoutValues(formatted.message) },
            context: ({ req }: { req: Request }): ApiContext => ({ req, loaders: new ApiLoaders(dataSource) }),
          }),
        }),
      ],
      controllers: [DashboardController, SessionController, ImagesController],
      providers: [
        { provide: API_CONFIG, useValue: config },
        // API_TOKEN is the bootstrap admin; the named tokens come through the config bucket.
        { provide: API_TOKENS, inject: [TokenView], useFactory: (view: TokenView) => new AccessTokens(view, [{ token: apiToken, scope: TokenScope.ADMIN }]) },
        { provide: SecretBox, useValue: new SecretBox(config.SECRET_KEYS) },
        ConfigSync,
        DashboardSessions,
        EndpointRegistry,
        ListEndpoints,
        CreateEndpoint,
        UpdateEndpoint,
        PauseEndpoint,
        ResumeEndpoint,
        DeleteEndpoint,
        SetWebSocketAccess,
        RotateWebSocketToken,
        EventFilterRegistry,
        ListEventFilters,
        CreateEventFilter,
        UpdateEventFilter,
        DeleteEventFilter,
        SigningSecrets,
        SecretsAtRest,
        ReadWebhookSecret,
        RotateWebhookSecret,
        DeliveryHandoff,
        { provide: DeletedProfiles, inject: [NatsClient], useFactory: (client: NatsClient) => DeletedProfiles.open(client, config.DELETED_PROFILES_MAX_AGE) },
        ListDeliveryAttempts,
        ResendDelivery,
        StartReplay,
        CancelReplay,
        ListReplayJobs,
        SendTestEvent,
        ListLostEvents,
        ListDeadLetters,
        ActOnDeadLetters,
        TokenGuard,
        { provide: APP_PIPE, useClass: InputValidationPipe },
        { provide: APP_FILTER, useClass: ApiErrorsFilter },
        ListApiTokens,
        CreateApiToken,
        RevokeApiToken,
        MoveCamera,
        AgentCredentials,
        AgentRevocations,
        CreateAgent,
        RotateAgentCredentials,
        RevokeAgent,
        ListAgents,
        UpsertProfile,
        DeleteProfile,
        ReadConsumerLag,
        ...API_RESOLVERS,
      ],
    };
  }
}

