import { Injectable } from '@nestjs/common';
import { DeliverPolicy } from '@nats-io/jetstream';
import { DeletedProfiles, Headers, NatsClient } from '@app/messaging';
import { isTransientFailure } from '@app/runtime';
import { ApiError } from '../graphql/api.error.js';
import { DeliveryHandoff } from './delivery-handoff.js';

/** Deliveries re-sent by a replay go out at most this fast (the dispatcher spreads them). */
export const REPLAY_RATE_PER_SECOND = 50;
const MAX_REPLAY = 100_000;

/**
 * Re-sends every delivery the endpoint was routed between `from` and `to`
 * (at most MAX_REPLAY), from the JetStream history, at most
 * REPLAY_RATE_PER_SECOND. Returns how many. Copies an earlier resend or
 * replay put in that history are not sent again, nor is anything routed
 * after the replay started.
 */
@Injectable()
export class ReplayEndpoint {
  constructor(
    private readonly nats: NatsClient,
    private readonly handoff: DeliveryHandoff,
    private readonly deletedProfiles: DeletedProfiles,
  ) {}

  async execute(endpointId: string, from: Date, to: Date): Promise<number> {
    if (!(from < to)) throw ApiError.badInput('to', 'must be after from');
    // The stored endpoint's id is the key its delivery subject is made of, however the caller spelled it.
    const { id: endpointKey } = await this.handoff.webhookEndpoint(endpointId);
    const { jetstream, topology } = this.nats;
    const consumer = await jetstream.consumers.get(topology.streams.deliveries, {
      filter_subjects: topology.webhookDeliveries(endpointKey),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: from.toISOString(),
    });
    try {
      const started = Date.now();
      const known = new Map<string, boolean>();
      // The replay's own copies land in the same history: it never reads past its start.
      const until = Math.min(to.getTime(), started);
      let count = 0;
      while (count < MAX_REPLAY) {
        const message = await consumer.next({ expires: 1_000 });
        if (!message || message.info.timestampNanos / 1e6 > until) break;
        const eventId = message.headers?.get(Headers.eventId);
        if (!eventId || message.headers?.has(Headers.resent)) continue;
        const routedAt = new Date(message.info.timestampNanos / 1e6);
        try {
          // History is re-checked: an event whose candidates were all deleted since is not sent again.
          const body = await this.deletedProfiles.recheck(message.data, known);
          if (body === null) continue;
          // The same replay run twice within the duplicate window hands each delivery over once.
          await this.handoff.send(endpointKey, eventId, body, new Date(started + (count * 1_000) / REPLAY_RATE_PER_SECOND), 'replay', `${from.getTime()}:${to.getTime()}`);
        } catch (error) {
          if (!isTransientFailure(error) && !(error instanceof ApiError)) throw error;
          // What was handed over stays handed over; the caller goes on from the first delivery not handed over.
          throw new ApiError(
            'UNAVAILABLE',
            `NATS became unreachable after ${count} deliveries were replayed (${(error as Error).message}); to replay the rest once it is back, replay from ${routedAt.toISOString()}`,
          );
        }
        count += 1;
      }
      return count;
    } finally {
      // Gone at once: a consumer left behind would hold back trimming of the deliveries stream until it expired.
      await consumer.delete().catch(() => undefined);
    }
  }
}
