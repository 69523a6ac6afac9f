import { Injectable } from '@nestjs/common';
import { DataSource, IsNull, Not } from 'typeorm';
import { DeliveryRetryEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';
import { DeliveryHandoff } from './delivery-handoff.js';
import { DeletedProfiles } from '@app/messaging';

/**
 * Attempts a failed delivery again, from its first attempt's schedule,
 * after the deleted-profile check every re-send applies
 * (DeletedProfiles.recheck): an event whose candidates were all deleted
 * since is refused. The dispatcher owns the ledger: the delivery is
 * handed to it on the endpoint's delivery subject (DeliveryHandoff), due now.
 */
@Injectable()
export class ResendDelivery {
  constructor(
    private readonly dataSource: DataSource,
    private readonly handoff: DeliveryHandoff,
    private readonly deletedProfiles: DeletedProfiles,
  ) {}

  async execute(endpointId: string, eventId: string): Promise<boolean> {
    const endpoint = await this.handoff.webhookEndpoint(endpointId);
    // Deliveries are recorded under the event id's key.
    const eventKey = parseUuid('eventId', eventId);
    const failed = await this.dataSource.getRepository(DeliveryRetryEntity).findOne({
      select: { body: true },
      where: { endpointId: endpoint.id, eventId: eventKey, failedAt: Not(IsNull()) },
    });
    if (!failed) throw new ApiError('NOT_FOUND', `no failed delivery of event ${eventId} to endpoint ${endpointId}`, 'eventId');
    const body = await this.deletedProfiles.recheck(failed.body);
    if (body === null) {
      throw ApiError.badInput('eventId', `every candidate's profile of event ${eventId} has been deleted since; it is not sent again`);
    }
    await this.handoff.send(endpoint.id, eventKey, body, new Date());
    return true;
  }
}
