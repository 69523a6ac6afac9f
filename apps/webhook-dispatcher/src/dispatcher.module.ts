import { Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigBarrierModule, ConfigViewModule, DeletedProfiles, EndpointHealthPublisher, EndpointHealthPublisherModule, MessagingModule, NatsClient, natsSettings, RoutingTable, SecretsViewModule } from '@app/messaging';
import { databaseSettingsOf } from '@app/config';
import { DatabaseModule } from '@app/persistence';
import { RuntimeModule } from '@app/runtime';
import { SecretBox } from '@app/webhooks';
import { ClaimHorizon } from './claim-horizon.js';
import { DeliveryFlow } from './delivery-flow.js';
import { DeliveryGate } from './delivery-gate.js';
import { DeadLetterCommands } from './dead-letter-commands.js';
import { DeadLetterStore } from './dead-letter-store.js';
import { DeadLettersConsumer } from './dead-letters.consumer.js';
import { DeliveryChangesConsumer } from './delivery-changes.consumer.js';
import { DeliveryProjection } from './delivery-projection.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeliveryStore } from './delivery-store.js';
import type { DispatcherConfig } from './dispatcher.config.js';
import { DISPATCHER_CONFIG } from './dispatcher.tokens.js';
import { DispatcherMetrics } from './dispatcher.metrics.js';
import { EndpointHealthTracker } from './endpoint-health-tracker.js';
import { EndpointLanes } from './endpoint-lanes.js';
import { EndpointRates } from './endpoint-rates.js';
import { FirstAttemptOrder } from './first-attempt-order.js';
import { RetryHolds } from './retry-holds.js';
import { RetryPolicy } from './retry-policy.js';
import { RetryScheduler } from './retry-scheduler.js';
import { WebhookClient } from './webhook-client.js';
import { WebhookSigner } from './webhook-signer.js';
import { WebhookDeliveriesConsumer } from './webhook-deliveries.consumer.js';
import { ReplayStore } from './replays/replay-store.js';
import { ReplayWorker } from './replays/replay-worker.js';

@Injectable()
class WebhookClientLifecycle implements OnApplicationShutdown {
  constructor(private readonly client: WebhookClient) {}

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

@Module({})
export class DispatcherModule {
  static forRoot(config: DispatcherConfig): DynamicModule {
    return {
      module: DispatcherModule,
      imports: [
        RuntimeModule.forRoot('webhook-dispatcher', config),
        MessagingModule.forRoot(natsSettings(config, 'webhook-dispatcher')),
        ConfigViewModule,
        SecretsViewModule,
        ConfigBarrierModule,
        EndpointHealthPublisherModule,
        // Migrations run under an advisory lock, so the dispatcher may start before the api; it does not wait
        // for PostgreSQL to start: fresh deliveries need none (docs/reliability.md).
        DatabaseModule.forRoot(databaseSettingsOf(config), { waitAtStart: false }),
      ],
      providers: [
        { provide: DISPATCHER_CONFIG, useValue: config },
        DispatcherMetrics,
        { provide: WebhookClient, useValue: new WebhookClient(config.WEBHOOK_ALLOWED_NETWORKS, config.WEBHOOK_TIMEOUT, config.DELIVERY_LOG_BODY_BYTES) },
        { provide: EndpointLanes, useValue: new EndpointLanes(config.WEBHOOK_ENDPOINT_CONCURRENCY) },
        { provide: EndpointRates, useValue: new EndpointRates() },
        WebhookClientLifecycle,
        { provide: SecretBox, useValue: new SecretBox(config.SECRET_KEYS) },
        DeliveryStore,
        RetryHolds,
        DeliveryRecorder,
        DeliveryProjection,
        DeliveryChangesConsumer,
        ClaimHorizon,
        DeliveryGate,
        WebhookSigner,
        { provide: RetryPolicy, useValue: new RetryPolicy(config.WEBHOOK_RETRY_SCHEDULE) },
        {
          provide: EndpointHealthTracker,
          inject: [EndpointHealthPublisher],
          useFactory: (records: EndpointHealthPublisher) => new EndpointHealthTracker(records, config.WEBHOOK_PAUSE_AFTER_FAILURES),
        },
        FirstAttemptOrder,
        DeliveryFlow,
        WebhookDeliveriesConsumer,
        RetryScheduler,
        RoutingTable,
        { provide: DeletedProfiles, inject: [NatsClient], useFactory: (client: NatsClient) => DeletedProfiles.open(client, config.DELETED_PROFILES_MAX_AGE) },
        ReplayStore,
        ReplayWorker,
        DeadLetterStore,
        DeadLettersConsumer,
        DeadLetterCommands,
      ],
    };
  }
}
