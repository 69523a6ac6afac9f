import { EndpointType } from '@app/messaging';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';

/** Loads a webhook endpoint with its signing secrets, which are never selected otherwise. */
@Injectable()
export class SigningSecrets {
  constructor(private readonly dataSource: DataSource) {}

  /** The webhook endpoint with its secrets; NOT_FOUND, or BAD_USER_INPUT for an endpoint that has none. */
  async find(endpointId: string): Promise<EndpointEntity> {
    const key = parseUuid('endpointId', endpointId);
    const endpoint = await this.dataSource
      .getRepository(EndpointEntity)
      .createQueryBuilder('endpoint')
      .addSelect(['endpoint.signingSecret', 'endpoint.previousSigningSecret', 'endpoint.previousSecretExpiresAt'])
      .where('endpoint.id = :endpointId', { endpointId: key })
      .getOne();
    if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${endpointId}`, 'endpointId');
    if (endpoint.type !== EndpointType.WEB_HOOK || !endpoint.signingSecret) {
      throw ApiError.badInput('endpointId', 'only a webhook endpoint has a signing secret');
    }
    return endpoint;
  }
}
