import { Injectable } from '@nestjs/common';
import { SigningSecrets } from './signing-secrets.js';
import type { WebhookSecretModel } from './webhook-secret.model.js';

/** A webhook endpoint's current signing secret, and the previous one while it still signs; the only way a secret leaves the database. */
@Injectable()
export class ReadWebhookSecret {
  constructor(private readonly secrets: SigningSecrets) {}

  async execute(endpointId: string): Promise<WebhookSecretModel> {
    const endpoint = await this.secrets.find(endpointId);
    const previousValid = endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > new Date();
    return {
      secret: endpoint.signingSecret!,
      previousSecret: previousValid ? endpoint.previousSigningSecret : null,
      previousSecretExpiresAt: previousValid ? endpoint.previousSecretExpiresAt : null,
    };
  }
}
