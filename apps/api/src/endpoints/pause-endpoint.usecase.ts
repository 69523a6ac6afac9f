import { Injectable } from '@nestjs/common';
import { EndpointState } from '@app/messaging';
import type { EndpointEntity } from '@app/persistence';
import { EndpointRegistry } from './endpoint-registry.js';

/** Stops sending to a webhook endpoint; its deliveries wait (in PostgreSQL) until it is resumed. */
@Injectable()
export class PauseEndpoint {
  constructor(private readonly registry: EndpointRegistry) {}

  execute(id: string): Promise<EndpointEntity> {
    return this.registry.changeState(id, EndpointState.PAUSED_BY_HAND);
  }
}
