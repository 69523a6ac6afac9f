import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigViewModule, MessagingModule, natsSettings, RoutingTable } from '@app/messaging';
import { RuntimeModule } from '@app/runtime';
import { RoutableEventsConsumer } from './routable-events.consumer.js';
import { RouteEvent } from './route-event.usecase.js';
import { RouterHealth } from './router.health.js';
import { RouterMetrics } from './router.metrics.js';
import type { RouterConfig } from './router.config.js';

@Module({})
export class RouterModule {
  static forRoot(config: RouterConfig): DynamicModule {
    return {
      module: RouterModule,
      imports: [
        RuntimeModule.forRoot('filter-router', config),
        MessagingModule.forRoot(natsSettings(config, 'filter-router')),
        ConfigViewModule,
      ],
      providers: [RouterMetrics, RoutingTable, RouteEvent, RoutableEventsConsumer, RouterHealth],
    };
  }
}
