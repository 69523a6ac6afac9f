import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConfigView } from '@app/messaging';
import { HealthServer } from '@app/runtime';

/** Readiness details: the config revision applied so far (the NATS check is the messaging lib's). */
@Injectable()
export class RouterHealth implements OnModuleInit {
  constructor(
    private readonly health: HealthServer,
    private readonly config: ConfigView,
  ) {}

  onModuleInit(): void {
    this.health.addStatus(() => ({ configRevision: this.config.revision, endpoints: this.config.endpointCount, filters: this.config.filterCount, configMalformed: this.config.malformed }));
  }
}
