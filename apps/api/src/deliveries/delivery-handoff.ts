import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { encodeChanges, NatsClient, publishDurably, type DeliveryChange, EndpointType } from '@app/messaging';
import type { EndpointEntity } from '@app/persistence';
import { EndpointRegistry } from '../endpoints/endpoint-registry.js';
import { ApiError } from '../graphql/api.error.js';

/** What re-sending a webhook delivery (resend, replay) shares: the endpoint check, and handing the delivery to the dispatcher. */
@Injectable()
export class DeliveryHandoff {
  constructor(
    private readonly nats: NatsClient,
    private readonly endpoints: EndpointRegistry,
  ) {}

  /** The webhook endpoint `endpointId` names; NOT_FOUND, or BAD_USER_INPUT for another type. */
  async webhookEndpoint(endpointId: string): Promise<EndpointEntity> {
    const endpoint = await this.endpoints.find(endpointId, 'endpointId');
    if (endpoint.type !== EndpointType.WEB_HOOK) throw ApiError.badInput('endpointId', 'only webhook deliveries are re-sent');
    return endpoint;
  }

  /** Hands a delivery to the dispatcher, to be attempted from its first attempt at `at`. */
  async park(endpointId: string, eventId: string, body: Uint8Array, at: Date, operation = `resend:${at.getTime()}`): Promise<void> {
    const change: DeliveryChange = {
      id: randomUUID(),
      endpointId,
      eventId,
      log: null,
      retry: { kind: 'park', attempt: 1, at: at.toISOString() },
      body: Buffer.from(body).toString('base64'),
    };
    await publishDurably(this.nats, this.nats.topology.deliveryChanges, encodeChanges([change]), {
      messageId: `${endpointId}:${eventId}:${operation}`,
    }).catch((error: Error) => {
      throw new ApiError('UNAVAILABLE', `the delivery could not be handed to the dispatcher: ${error.message}; retry later`);
    });
  }
}
