import { JetStreamApiCodes, JetStreamApiError, type MsgRequest, type PubAck } from '@nats-io/jetstream';
import type { NatsClient } from './nats-connection.js';
import { publishDurably } from './publisher.js';

/** Endpoint keys (idKey) to the stream sequence of the event's delivery to each. */
export type Positions = Record<string, number>;

/**
 * Where an event's websocket deliveries sit in the deliveries stream, so a
 * client that names the last event it saw (`last_event_id`) resumes right
 * after it. Whoever stores an event's first deliveries — filter-router, a
 * REROUTE replay, the api's test event — records their sequences once they
 * are stored, in one message per event and writer on
 * `<p>.deliveries.positions.<event>` (same stream, so it ages out with
 * them). The deliveries themselves share one subject per endpoint: a
 * gateway's feed reads its endpoint through a literal filter, which
 * nats-server 2.9 serves from its per-subject index rather than by
 * scanning every message stored since the endpoint's previous delivery.
 */
export const WebsocketPositions = {
  /** Records `stored` (endpoint key → its delivery's publish ack) of event `eventKey`; nothing when there is none. */
  async record(client: NatsClient, eventKey: string, stored: ReadonlyArray<readonly [string, PubAck]>): Promise<void> {
    if (stored.length === 0) return;
    const positions: Positions = {};
    for (const [endpointKey, ack] of stored) positions[endpointKey] = ack.seq;
    // A retried routing with the same targets stores its record once; a re-route's, naming other endpoints, is a record of its own.
    const messageId = `${eventKey}:positions:${stored[0]![0]}:${stored.length}`;
    await publishDurably(client, client.topology.websocketPositions(eventKey), new TextEncoder().encode(JSON.stringify(positions)), { messageId });
  },

  /**
   * The sequence of event `eventKey`'s first delivery to `endpointKey`, or
   * null when none was recorded (never delivered there, or aged out). An
   * event has more than one record when a re-route or a retried routing
   * stored some of its deliveries later: the first that names the endpoint
   * is its delivery (a later one is a copy the stream kept once).
   */
  async find(client: NatsClient, eventKey: string, endpointKey: string): Promise<number | null> {
    const { manager, topology } = client;
    for (let after = 0; ; ) {
      // nats-server 2.9 answers next_by_subj on the stream's message get; the client types it for direct gets only.
      const request = { next_by_subj: topology.websocketPositions(eventKey), seq: after + 1 } as unknown as MsgRequest;
      let message;
      try {
        message = await manager.streams.getMessage(topology.streams.deliveries, request);
      } catch (error) {
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
        throw error;
      }
      if (!message) return null;
      const positions = parsePositions(message.data);
      if (positions?.[endpointKey] !== undefined) return positions[endpointKey]!;
      after = message.seq;
    }
  },
};

function parsePositions(data: Uint8Array): Positions | null {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Positions) : null;
  } catch {
    return null;
  }
}
