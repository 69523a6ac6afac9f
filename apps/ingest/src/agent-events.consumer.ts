import { Injectable } from '@nestjs/common';
import type { JsMsg } from '@nats-io/jetstream';
import { eventIdKeyOf, idKey, type EventRejection } from '@app/events';
import { DeadLetterReason, DURABLES, JetStreamConsumer, type HandleContext, type MessageHandler, NatsClient, Outcome, PublishUnavailableError, Topology } from '@app/messaging';
import { AcceptEvent } from './accept-event.usecase.js';

const STORE_RETRY_MS = 2_000;

const REASONS: Record<EventRejection['code'], DeadLetterReason> = {
  MALFORMED_JSON: DeadLetterReason.MALFORMED_MESSAGE,
  INVALID_EVENT: DeadLetterReason.INVALID_EVENT,
  PAYLOAD_TOO_LARGE: DeadLetterReason.PAYLOAD_TOO_LARGE,
  FORBIDDEN: DeadLetterReason.WRONG_AGENT,
  DUPLICATE_KEY: DeadLetterReason.DUPLICATE_KEY,
  CAMERA_OF_ANOTHER_AGENT: DeadLetterReason.CAMERA_OF_ANOTHER_AGENT,
  TOO_MANY_CAMERAS: DeadLetterReason.TOO_MANY_CAMERAS,
};


/**
 * Events agents published on their NATS subjects: validated, then stored
 * like HTTP ones. Partitioned by agent: one replica at a time reads an
 * agent's subject, and stores the events of each of its cameras in the
 * order the agent published them.
 */
@Injectable()
@JetStreamConsumer({
  durable: DURABLES.ingest,
  stream: (topology) => topology.streams.ingress,
  filterSubject: (topology) => topology.allAgentEvents,
  // Validating and storing takes milliseconds: a killed replica's events go out again within seconds.
  ackWaitMs: 10_000,
  // An agent's message has no headers of the data path: the event's id is in its JSON (a UUID or nothing).
  eventIdOf: (message) => eventIdKeyOf(message.data),
  partitionKey: (message, topology) => idKey(topology.agentOfSubject(message.subject)),
})
export class AgentEventsConsumer implements MessageHandler {
  private readonly topology: Topology;

  constructor(
    private readonly acceptEvent: AcceptEvent,
    nats: NatsClient,
  ) {
    this.topology = nats.topology;
  }

  async handle(message: JsMsg, context: HandleContext): Promise<Outcome> {
    try {
      // An agent speaks for itself only: an event naming another agent is refused. Stored after the camera's earlier events.
      const result = await this.acceptEvent.execute('nats', message.data, [], [idKey(this.topology.agentOfSubject(message.subject))], context);
      // An invalid event can never succeed: dead-lettered with its reason, and the ones behind it go on.
      if (result.accepted) return Outcome.done;
      const { code, message: text } = result.rejection;
      return Outcome.skip(REASONS[code], `${code}: ${text}`);
    } catch (error) {
      if (error instanceof PublishUnavailableError) {
        return Outcome.retry(error.message, STORE_RETRY_MS, error.retryCapMs);
      }
      throw error;
    }
  }
}
