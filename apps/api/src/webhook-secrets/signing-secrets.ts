import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConfigKeys, EndpointType } from '@app/messaging';
import { EndpointEntity } from '@app/persistence';
import { SecretBox, type EndpointSecrets } from '@app/webhooks';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';

/**
 * A webhook's signing material as PostgreSQL keeps it: sealed with
 * SECRET_KEYS, bound to the endpoint's config key, so that the config bucket
 * carries the very text the row holds. Never selected unless asked for.
 */
@Injectable()
export class SigningSecrets {
  constructor(
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
  ) {}

  seal(endpointId: string, secrets: EndpointSecrets): string {
    return this.box.seal(secrets, ConfigKeys.secrets(endpointId));
  }

  open(endpointId: string, sealed: string): EndpointSecrets {
    return this.box.open<EndpointSecrets>(sealed, ConfigKeys.secrets(endpointId));
  }

  /** The webhook endpoint's secrets; NOT_FOUND, or BAD_USER_INPUT for an endpoint that has none. */
  async find(endpointId: string): Promise<{ endpoint: EndpointEntity; secrets: EndpointSecrets }> {
    const key = parseUuid('endpointId', endpointId);
    const endpoint = await this.dataSource
      .getRepository(EndpointEntity)
      .createQueryBuilder('endpoint')
      .addSelect('endpoint.sealedSecrets')
      .where('endpoint.id = :endpointId', { endpointId: key })
      .getOne();
    if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${endpointId}`, 'endpointId');
    if (endpoint.type !== EndpointType.WEB_HOOK || !endpoint.sealedSecrets) {
      throw ApiError.badInput('endpointId', 'only a webhook endpoint has a signing secret');
    }
    return { endpoint, secrets: this.open(endpoint.id, endpoint.sealedSecrets) };
  }
}
