import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { listenHost } from '@app/config';
import { HealthServer } from './health-server.js';

const HEALTH_LISTEN = Symbol('health-listen');

@Injectable()
class HealthServerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly server: HealthServer,
    @Inject(HEALTH_LISTEN) private readonly listen: { port: number; host: string },
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.server.listen(this.listen.port, this.listen.host);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.close();
  }
}

/** Health, readiness and metrics of one app, on their own port. */
@Module({})
export class RuntimeModule {
  /** `config`: the app's HEALTH_PORT, LISTEN_HOST and NODE_ENV (listenHost). */
  static forRoot(appName: string, config: { HEALTH_PORT: number; LISTEN_HOST?: string | undefined; NODE_ENV: string }): DynamicModule {
    return {
      module: RuntimeModule,
      global: true,
      providers: [
        { provide: HealthServer, useValue: new HealthServer(appName) },
        { provide: HEALTH_LISTEN, useValue: { port: config.HEALTH_PORT, host: listenHost(config) } },
        HealthServerLifecycle,
      ],
      exports: [HealthServer],
    };
  }
}
