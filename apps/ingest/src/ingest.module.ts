import { Module, type DynamicModule } from '@nestjs/common';
import { resolveApiToken } from '@app/config';
import { AccessTokens, AgentActivity, CameraBindings, MessagingModule, NatsClient, natsSettings, TokenScope, TokenView, TokenViewModule } from '@app/messaging';
import { RuntimeModule } from '@app/runtime';
import { AcceptEvent } from './accept-event.usecase.js';
import { AgentEventsConsumer } from './agent-events.consumer.js';
import { AgentTokenGuard } from './agent-token.guard.js';
import { EventImagesStore } from './event-images.store.js';
import { EventsController } from './events.controller.js';
import type { IngestConfig } from './ingest.config.js';
import { IngestMetrics } from './ingest.metrics.js';
import { AGENT_TOKENS, INGEST_CONFIG } from './ingest.tokens.js';

@Module({})
export class IngestModule {
  static forRoot(config: IngestConfig): DynamicModule {
    const apiToken = resolveApiToken(config.API_TOKEN, config.NODE_ENV);
    return {
      module: IngestModule,
      imports: [
        RuntimeModule.forRoot('ingest', config),
        MessagingModule.forRoot(natsSettings(config, 'ingest')),
        TokenViewModule,
      ],
      controllers: [EventsController],
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        {
          provide: AGENT_TOKENS,
          inject: [TokenView],
          useFactory: (view: TokenView) =>
            new AccessTokens(view, [
              { token: apiToken.token, scope: TokenScope.ADMIN },
              ...config.AGENT_TOKENS.map(({ token, agentIds }) => ({ token, scope: TokenScope.AGENT, agentIds })),
            ]),
        },
        {
          provide: CameraBindings,
          inject: [NatsClient],
          useFactory: async (nats: NatsClient) => {
            const bindings = await CameraBindings.open(nats, config.INGEST_MAX_CAMERAS_PER_AGENT);
            await bindings.start();
            return bindings;
          },
        },
        {
          // What each agent's events came to lately, for the api's agents query.
          provide: AgentActivity,
          inject: [NatsClient],
          useFactory: (nats: NatsClient) => {
            const activity = new AgentActivity();
            activity.answer(nats);
            return activity;
          },
        },
        IngestMetrics,
        AcceptEvent,
        EventImagesStore,
        AgentEventsConsumer,
        AgentTokenGuard,
      ],
    };
  }
}
