import { Injectable } from '@nestjs/common';
import { EndpointType, Headers, NatsClient, publishDurably } from '@app/messaging';
import type { EndpointEntity } from '@app/persistence';
import { EndpointRegistry } from '../endpoints/endpoint-registry.js';
import { ApiError } from '../graphql/api.error.js';

/**
 * How the api re-sends a failed webhook delivery (resendDelivery): the
 * endpoint check, and the command to the dispatcher. The api never writes the
 * dispatcher's ledger or its change log: it publishes the delivery again on
 * the endpoint's delivery subject, with the time it is due, and the
 * dispatcher's consumer takes it as any delivery (parking it until then).
 */
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

  /**
   * Hands a delivery to the dispatcher, to be attempted from its first
   * attempt at `at`; handed over twice at the same instant, it is stored once.
   */
  async send(endpointId: string, eventId: string, body: Uint8Array, at: Date): Promise<void> {
    await publishDurably(this.nats, this.nats.topology.webhookDeliveries(endpointId), body, {
      messageId: `${endpointId}:${eventId}:resend:${at.getTime()}`,
      headers: { [Headers.eventId]: eventId, [Headers.endpointId]: endpointId, [Headers.dueAt]: String(at.getTime()), [Headers.resent]: 'resend' },
    }).catch((error: Error) => {
      throw new ApiError('UNAVAILABLE', `the delivery could not be handed to the dispatcher: ${error.message}; retry later`);
    });
  }
}
