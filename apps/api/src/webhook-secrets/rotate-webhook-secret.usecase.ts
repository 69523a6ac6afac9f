import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointEntity } from '@app/persistence';
import { generateSecret } from '@app/webhooks';
import { ConfigSync } from '../config-sync.js';
import { ApiError } from '../graphql/api.error.js';
import { ReadWebhookSecret } from './read-webhook-secret.usecase.js';
import { SigningSecrets } from './signing-secrets.js';
import type { WebhookSecretModel } from './webhook-secret.model.js';

const MAX_GRACE_SECONDS = 7 * 86_400;

/** A new secret signs from now on; the old one keeps signing too for `graceSeconds`. */
@Injectable()
export class RotateWebhookSecret {
  constructor(
    private readonly dataSource: DataSource,
    private readonly secrets: SigningSecrets,
    private readonly read: ReadWebhookSecret,
    private readonly sync: ConfigSync,
  ) {}

  async execute(endpointId: string, graceSeconds: number): Promise<WebhookSecretModel> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
      throw ApiError.badInput('graceSeconds', `must be between 0 and ${MAX_GRACE_SECONDS}`);
    }
    const endpoint = await this.secrets.find(endpointId);
    await this.dataSource.getRepository(EndpointEntity).update(
      { id: endpoint.id },
      {
        signingSecret: generateSecret(),
        previousSigningSecret: graceSeconds > 0 ? endpoint.signingSecret : null,
        previousSecretExpiresAt: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1_000) : null,
      },
    );
    // Every dispatcher replica signs with the new secret too before this returns.
    await this.sync.webhookChanged(endpoint);
    return this.read.execute(endpoint.id);
  }
}
