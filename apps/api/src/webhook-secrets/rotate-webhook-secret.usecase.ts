import { Injectable } from '@nestjs/common';
import { generateSecret } from '@app/webhooks';
import { EndpointRegistry } from '../endpoints/endpoint-registry.js';
import { ApiError } from '../graphql/api.error.js';
import { ReadWebhookSecret } from './read-webhook-secret.usecase.js';
import { SigningSecrets } from './signing-secrets.js';
import type { WebhookSecretModel } from './webhook-secret.model.js';

const MAX_GRACE_SECONDS = 7 * 86_400;

/** A new secret signs from now on; the old one keeps signing too for `graceSeconds`. */
@Injectable()
export class RotateWebhookSecret {
  constructor(
    private readonly registry: EndpointRegistry,
    private readonly secrets: SigningSecrets,
    private readonly read: ReadWebhookSecret,
  ) {}

  async execute(endpointId: string, graceSeconds: number): Promise<WebhookSecretModel> {
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
      throw ApiError.badInput('graceSeconds', `must be between 0 and ${MAX_GRACE_SECONDS}`);
    }
    await this.secrets.find(endpointId);
    // Under the row lock (a change of the headers at the same time keeps both); every
    // dispatcher replica signs with the new secret too before this returns.
    const endpoint = await this.registry.change(
      endpointId,
      (row, sealed) => {
        const current = this.secrets.open(row.id, sealed!);
        row.sealedSecrets = this.secrets.seal(row.id, {
          ...current,
          current: generateSecret(),
          previous: graceSeconds > 0 ? current.current : null,
          previousExpiresAt: graceSeconds > 0 ? new Date(Date.now() + graceSeconds * 1_000).toISOString() : null,
        });
      },
      { field: 'endpointId' },
    );
    return this.read.execute(endpoint.id);
  }
}
