import { Injectable } from '@nestjs/common';
import { EndpointState } from '@app/messaging';
import type { EndpointEntity } from '@app/persistence';
import { EndpointRegistry } from './endpoint-registry.js';

/**
 * Sends again, whatever paused or disabled the endpoint (by hand, after
 * failures, or by 410): the next resume generation sets the dispatcher's
 * health from before aside; what was waiting goes out at once.
 */
@Injectable()
export class ResumeEndpoint {
  constructor(private readonly registry: EndpointRegistry) {}

  execute(id: string): Promise<EndpointEntity> {
    return this.registry.changeState(id, EndpointState.ACTIVE);
  }
}
