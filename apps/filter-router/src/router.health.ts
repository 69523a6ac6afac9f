import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigView, NatsClient } from '@app/messaging';
import { HealthServer } from '@app/runtime';

/** Readiness: connected to NATS, with the config revision applied so far. */
@Injectable()
export class RouterHealth implements OnModuleInit {
  constructor(
    private readonly health: HealthServer,
    private readonly nats: NatsClient,
    private readonly config: ConfigView,
  ) {}

  onModuleInit(): void {
    this.health.addCheck('nats', () => !this.nats.connection.isClosed());
    this.health.addStatus(() => ({ configRevision: this.config.revision, endpoints: this.config.size }));
  }
}
