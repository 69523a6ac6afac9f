import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Headers, NatsClient, publishDurably, EndpointType, WebsocketPositions } from '@app/messaging';
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
    const websocket = endpoint.type !== EndpointType.WEB_HOOK;
    const subject = websocket ? topology.websocketDeliveries(endpoint.id) : topology.webhookDeliveries(endpoint.id);
    try {
      const ack = await publishDurably(this.nats, subject, new TextEncoder().encode(JSON.stringify(sampleEvent(eventId))), {
        messageId: `${eventId}:${endpoint.id}`,
        headers: { [Headers.eventId]: eventId, [Headers.endpointId]: endpoint.id },
      });
      // A client can resume after a test event as after any other.
      if (websocket) await WebsocketPositions.record(this.nats, eventId, [[endpoint.id, ack]]);
    } catch (error) {
      throw new ApiError('UNAVAILABLE', `the test event could not be queued: ${(error as Error).message}`);
    }
    return eventId;
  }
}
