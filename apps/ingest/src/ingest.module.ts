import { Module, type DynamicModule } from '@nestjs/common';
import { resolveApiToken } from '@app/config';
import { MessagingModule } from '@app/messaging';
import { RuntimeModule, TokenSet } from '@app/runtime';
import { AcceptEvent } from './accept-event.usecase.js';
import { AgentEventsConsumer } from './agent-events.consumer.js';
import { AgentTokenGuard } from './agent-token.guard.js';
import { EventsController } from './events.controller.js';
import type { IngestConfig } from './ingest.config.js';
import { AGENT_TOKENS, INGEST_CONFIG } from './ingest.tokens.js';

@Module({})
export class IngestModule {
  static forRoot(config: IngestConfig): DynamicModule {
    const apiToken = resolveApiToken(config.API_TOKEN, config.NODE_ENV);
    return {
      module: IngestModule,
      imports: [
        RuntimeModule.forRoot('ingest', config.HEALTH_PORT),
        MessagingModule.forRoot({
          url: config.NATS_URL,
          prefix: config.NATS_PREFIX,
          streamMaxAgeMs: config.STREAM_MAX_AGE,
          duplicateWindowMs: config.STREAM_DUPLICATE_WINDOW,
          connectionName: 'ingest',
        }),
      ],
      controllers: [EventsController],
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        { provide: AGENT_TOKENS, useValue: new TokenSet([apiToken.token, ...config.AGENT_TOKENS]) },
        AcceptEvent,
        AgentEventsConsumer,
        AgentTokenGuard,
      ],
    };
  }
}
