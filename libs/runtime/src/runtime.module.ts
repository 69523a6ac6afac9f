import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { HealthServer } from './health-server.js';

const HEALTH_PORT = Symbol('health-port');

@Injectable()
class HealthServerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly server: HealthServer,
    @Inject(HEALTH_PORT) private readonly port: number,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.server.listen(this.port);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.server.close();
  }
}

/** Health, readiness and metrics of one app, on their own port. */
@Module({})
export class RuntimeModule {
  static forRoot(appName: string, healthPort: number): DynamicModule {
    return {
      module: RuntimeModule,
      global: true,
      providers: [
        { provide: HealthServer, useValue: new HealthServer(appName) },
        { provide: HEALTH_PORT, useValue: healthPort },
        HealthServerLifecycle,
      ],
      exports: [HealthServer],
    };
  }
}
