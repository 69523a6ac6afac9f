import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DeliverPolicy } from '@nats-io/jetstream';
import { And, DataSource, In, IsNull, LessThan, LessThanOrEqual, MoreThan, MoreThanOrEqual, Not, type FindOperator, type FindOptionsWhere } from 'typeorm';
import { encodeChanges, Headers, NatsClient, publishDurably, type DeliveryChange } from '@app/messaging';
import { DeliveryAttemptEntity, DeliveryRetryEntity, EndpointEntity } from '@app/persistence';
import { isTransientFailure } from '@app/runtime';
import { ApiError } from '../graphql/api.error.js';
import { assertUuid, idsOf, pageOf, SortDirection, type Pagination } from '../graphql/collection.model.js';
import type { DateFilter, DeliveryAttemptFilters, DeliveryAttemptOrder } from './delivery.model.js';
import { ProfileCheck } from './profile-check.js';
import { sampleEvent } from './sample-event.js';

/** Deliveries re-sent by a replay go out at most this fast (the dispatcher spreads them). */
export const REPLAY_RATE_PER_SECOND = 50;
const MAX_REPLAY = 100_000;

/** The delivery log, and re-sending: one failed delivery, a time range of history, a test event. */
@Injectable()
export class DeliveryUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly nats: NatsClient,
    private readonly profiles: ProfileCheck,
  ) {}

  async attempts(filters: DeliveryAttemptFilters | undefined, order: DeliveryAttemptOrder | undefined, pagination: Pagination | undefined) {
    const where: FindOptionsWhere<DeliveryAttemptEntity> = {};
    const endpointIds = idsOf('filters.endpointId', filters?.endpointId);
    if (endpointIds) where.endpointId = In(endpointIds);
    const eventIds = idsOf('filters.eventId', filters?.eventId);
    if (eventIds) where.eventId = In(eventIds);
    const outcome = filters?.outcome?.exact;
    if (outcome != null) where.outcome = outcome;
    const range = dateRange(filters?.attemptedAt);
    if (range) where.attemptedAt = range;
    const { offset, limit } = pageOf(pagination);
    const direction = order?.attemptedAt ?? SortDirection.DESC;
    const [collectionItems, totalCount] = await this.dataSource.getRepository(DeliveryAttemptEntity).findAndCount({
      where,
      order: { attemptedAt: direction, id: direction },
      skip: offset,
      take: limit,
    });
    return { totalCount, collectionItems };
  }

  /**
   * Attempts a failed delivery again, from its first attempt's schedule,
   * after the deleted-profile check: an event whose candidates were all
   * deleted since is refused. The dispatcher owns the retry store: the
   * delivery is handed to it as a change to park (the attempts stream), which
   * it applies once, in order with its own changes.
   */
  async resend(endpointId: string, eventId: string): Promise<boolean> {
    await this.webhookEndpoint(endpointId);
    const failed = await this.dataSource.getRepository(DeliveryRetryEntity).findOne({
      select: { body: true },
      where: { endpointId, eventId, failedAt: Not(IsNull()) },
    });
    if (!failed) throw new ApiError('NOT_FOUND', `no failed delivery of event ${eventId} to endpoint ${endpointId}`, 'eventId');
    const checked = await this.profiles.apply(failed.body);
    if (checked.result.kind === 'lost') {
      throw ApiError.badInput('eventId', `every candidate's profile of event ${eventId} has been deleted since; it is not sent again`);
    }
    await this.park(endpointId, eventId, checked.body, new Date());
    return true;
  }

  /** Hands a delivery to the dispatcher, to be attempted from its first attempt at `at`. */
  private async park(endpointId: string, eventId: string, body: Uint8Array, at: Date, operation = `resend:${at.getTime()}`): Promise<void> {
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

  /**
   * Re-sends every delivery the endpoint was routed between `from` and `to`,
   * from the JetStream history, at most REPLAY_RATE_PER_SECOND. Returns how many.
   */
  async replay(endpointId: string, from: Date, to: Date): Promise<number> {
    if (!(from < to)) throw ApiError.badInput('to', 'must be after from');
    await this.webhookEndpoint(endpointId);
    const { jetstream, topology } = this.nats;
    const consumer = await jetstream.consumers.get(topology.streams.deliveries, {
      filter_subjects: topology.webhookDeliveries(endpointId),
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: from.toISOString(),
    });
    const started = Date.now();
    let count = 0;
    while (count < MAX_REPLAY) {
      const message = await consumer.next({ expires: 1_000 });
      if (!message || message.info.timestampNanos / 1e6 > to.getTime()) break;
      const eventId = message.headers?.get(Headers.eventId);
      if (!eventId) continue;
      const routedAt = new Date(message.info.timestampNanos / 1e6);
      // History is re-checked: an event whose candidates were all deleted since is not sent again.
      const checked = await this.profiles.apply(message.data).catch((error: unknown) => {
        if (!isTransientFailure(error)) throw error;
        // What was handed over stays handed over; the caller goes on from the first delivery not handed over.
        throw new ApiError(
          'UNAVAILABLE',
          `PostgreSQL became unreachable after ${count} deliveries were replayed; to replay the rest once it is back, replay from ${routedAt.toISOString()}`,
        );
      });
      if (checked.result.kind === 'lost') continue;
      // The same replay run twice within the duplicate window hands each delivery over once.
      await this.park(endpointId, eventId, checked.body, new Date(started + (count * 1_000) / REPLAY_RATE_PER_SECOND), `replay:${from.getTime()}:${to.getTime()}`);
      count += 1;
    }
    return count;
  }

  /** Sends a sample event (the seed's format, fresh ids) to one endpoint only. */
  async sendTestEvent(endpointId: string): Promise<string> {
    assertUuid('endpointId', endpointId);
    const endpoint = await this.dataSource.getRepository(EndpointEntity).findOneBy({ id: endpointId });
    if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${endpointId}`, 'endpointId');
    const eventId = randomUUID();
    const { topology } = this.nats;
    const subject = endpoint.type === 'WEB_HOOK' ? topology.webhookDeliveries(endpoint.id) : topology.websocketDeliveries(endpoint.id);
    await publishDurably(this.nats, subject, new TextEncoder().encode(JSON.stringify(sampleEvent(eventId))), {
      messageId: `${eventId}:${endpoint.id}`,
      headers: { [Headers.eventId]: eventId, [Headers.endpointId]: endpoint.id },
    }).catch((error: Error) => {
      throw new ApiError('UNAVAILABLE', `the test event could not be queued: ${error.message}`);
    });
    return eventId;
  }

  private async webhookEndpoint(endpointId: string): Promise<EndpointEntity> {
    assertUuid('endpointId', endpointId);
    const endpoint = await this.dataSource.getRepository(EndpointEntity).findOneBy({ id: endpointId });
    if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${endpointId}`, 'endpointId');
    if (endpoint.type !== 'WEB_HOOK') throw ApiError.badInput('endpointId', 'only webhook deliveries are re-sent');
    return endpoint;
  }
}

function dateRange(filter: DateFilter | undefined): FindOperator<Date> | null {
  if (!filter) return null;
  const bounds: Array<FindOperator<Date>> = [];
  if (filter.gt) bounds.push(MoreThan(filter.gt));
  if (filter.gte) bounds.push(MoreThanOrEqual(filter.gte));
  if (filter.lt) bounds.push(LessThan(filter.lt));
  if (filter.lte) bounds.push(LessThanOrEqual(filter.lte));
  return bounds.length === 0 ? null : bounds.length === 1 ? bounds[0]! : And(...bounds);
}
