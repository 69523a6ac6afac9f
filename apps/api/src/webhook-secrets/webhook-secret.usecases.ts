import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointEntity } from '@app/persistence';
import { generateSecret } from '@app/webhooks';
import { ConfigSync } from '../config-sync.js';
import { ApiError } from '../graphql/api.error.js';
import { assertUuid } from '../graphql/collection.model.js';
import type { WebhookSecretModel } from './webhook-secret.model.js';

const MAX_GRACE_SECONDS = 7 * 86_400;

/** Reads and rotates webhook signing secrets; the only way a secret leaves the database. */
@Injectable()
export class WebhookSecretUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sync: ConfigSync,
  ) {}

  async read(endpointId: string): Promise<WebhookSecretModel> {
    const endpoint = await this.find(endpointId);
    const previousValid = endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > new Date();
    return {
      secret: endpoint.signingSecret!,
      previousSecret: previousValid ? endpoint.previousSigningSecret : null,
      previousSecretExpiresAt: previousValid ? endpoint.previousSecretExpiresAt : null,
    };
  }

  /** A new secret signs from now on; the old one keeps signing too for `graceSeconds`. */
  async rotate(endpointId: string, graceSeconds: number): Promise<WebhookSecretModel> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
      throw ApiError.badInput('graceSeconds', `must be between 0 and ${MAX_GRACE_SECONDS}`);
    }
    const endpoint = await this.find(endpointId);
    await this.dataSource.getRepository(EndpointEntity).update(
      { id: endpoint.id },
      {
        signingSecret: generateSecret(),
        previousSigningSecret: graceSeconds > 0 ? endpoint.signingSecret : null,
        previousSecretExpiresAt: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1_000) : null,
      },
    );
    // The dispatcher signs with the new secret as soon as it reaches it through the config bucket.
    await this.sync.endpointChanged(endpoint);
    return this.read(endpoint.id);
  }

  private async find(endpointId: string): Promise<EndpointEntity> {
    assertUuid('endpointId', endpointId);
    const endpoint = await this.dataSource
      .getRepository(EndpointEntity)
      .createQueryBuilder('endpoint')
      .addSelect(['endpoint.signingSecret', 'endpoint.previousSigningSecret', 'endpoint.previousSecretExpiresAt'])
      .where('endpoint.id = :endpointId', { endpointId })
      .getOne();
    if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${endpointId}`, 'endpointId');
    if (endpoint.type !== 'WEB_HOOK' || !endpoint.signingSecret) {
      throw ApiError.badInput('endpointId', 'only a webhook endpoint has a signing secret');
    }
    return endpoint;
  }
}
