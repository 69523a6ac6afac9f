import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Headers, NatsClient, publishDurably, EndpointType } from '@app/messaging';
import { EndpointRegistry } from '../endpoints/endpoint-registry.js';
import { ApiError } from '../graphql/api.error.js';
import { sampleEvent } from './sample-event.js';

/** Sends a sample event (the seed's format, fresh ids) to one endpoint only. */
@Injectable()
export class SendTestEvent {
  constructor(
    private readonly nats: NatsClient,
    private readonly endpoints: EndpointRegistry,
  ) {}

  async execute(endpointId: string): Promise<string> {
    const endpoint = await this.endpoints.find(endpointId, 'endpointId');
    const eventId = randomUUID();
    const { topology } = this.nats;
    const subject = endpoint.type === EndpointType.WEB_HOOK ? topology.webhookDeliveries(endpoint.id) : topology.websocketDeliveries(endpoint.id, eventId);
    await publishDurably(this.nats, subject, new TextEncoder().encode(JSON.stringify(sampleEvent(eventId))), {
      messageId: `${eventId}:${endpoint.id}`,
      headers: { [Headers.eventId]: eventId, [Headers.endpointId]: endpoint.id },
    }).catch((error: Error) => {
      throw new ApiError('UNAVAILABLE', `the test event could not be queued: ${error.message}`);
    });
    return eventId;
  }
}
