import { Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { AccessTokens, TokenScope, ConfigBarrierModule, ConfigView, ConfigViewModule, DeletedProfiles, MessagingModule, NatsClient, natsSettings, TokenView, TokenViewModule } from '@app/messaging';
import { HealthServer, RuntimeModule } from '@app/runtime';
import { ClientRegistry } from './client-registry.js';
import { RecentDeliveries } from './recent-deliveries.js';
import { Resumer } from './resumer.js';
import { DeliveryFeed } from './delivery-feed.js';
import type { GatewayConfig } from './gateway.config.js';
import { GATEWAY_CONFIG } from './gateway.tokens.js';
import { GatewayMetrics } from './gateway.metrics.js';
import { WebsocketServer } from './websocket.server.js';

@Injectable()
class GatewayHealth implements OnModuleInit {
  constructor(
    private readonly health: HealthServer,
    private readonly config: ConfigView,
    private readonly clients: ClientRegistry,
    private readonly feed: DeliveryFeed,
    private readonly resumer: Resumer,
  ) {}

  onModuleInit(): void {
    this.health.addStatus(() => ({
      configRevision: this.config.revision,
      configMalformed: this.config.malformed,
      clients: this.clients.size,
      forwarded: this.feed.forwarded,
      // The endpoints this replica reads (its clients'), with the stream sequence each feed forwarded up to.
      feeds: this.feed.positions,
      // Whether one consumer reads them all (WS_SHARED_FEED_ENDPOINTS), rather than one each.
      sharedFeed: this.feed.readsShared,
      resumes: this.resumer.resumes,
    }));
  }
}

/** How long one lookup of a deleted profile answers the gateway's other resuming clients. */
const DELETED_PROFILE_SHARE_MS = 1_000;

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        RuntimeModule.forRoot('websocket-gateway', config),
        MessagingModule.forRoot(natsSettings(config, 'websocket-gateway')),
        ConfigViewModule,
        // Access changes and token revocations hold in every replica before the api's mutation returns.
        ConfigBarrierModule,
        TokenViewModule,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        GatewayMetrics,
        {
          provide: ClientRegistry,
          inject: [GatewayMetrics],
          useFactory: (metrics: GatewayMetrics) => {
            const clients = new ClientRegistry(config.WS_MAX_BUFFERED_BYTES, config.WS_MAX_TOTAL_BUFFERED_BYTES, (count) => metrics.framesSent.inc(count));
            metrics.countConnections(() => clients.size);
            return clients;
          },
        },
        { provide: RecentDeliveries, useValue: new RecentDeliveries(config.WS_RECENT_BYTES) },
        DeliveryFeed,
        // A reconnect wave's clients resend the same histories: one lookup of a profile answers them all for a second.
        {
          provide: DeletedProfiles,
          inject: [NatsClient],
          useFactory: (client: NatsClient) => DeletedProfiles.open(client, config.DELETED_PROFILES_MAX_AGE, { shareMs: DELETED_PROFILE_SHARE_MS }),
        },
        Resumer,
        {
          provide: AccessTokens,
          inject: [TokenView],
          useFactory: (view: TokenView) => new AccessTokens(view, config.API_TOKEN ? [{ token: config.API_TOKEN, scope: TokenScope.ADMIN }] : []),
        },
        WebsocketServer,
        GatewayHealth,
      ],
    };
  }
}
