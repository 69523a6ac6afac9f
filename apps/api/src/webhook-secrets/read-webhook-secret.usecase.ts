import { Injectable } from '@nestjs/common';
import { SigningSecrets } from './signing-secrets.js';
import type { WebhookSecretModel } from './webhook-secret.model.js';

/** A webhook endpoint's current signing secret, and the previous one while it still signs; the only way a secret leaves the database. */
@Injectable()
export class ReadWebhookSecret {
  constructor(private readonly secrets: SigningSecrets) {}

  async execute(endpointId: string): Promise<WebhookSecretModel> {
    const { secrets } = await this.secrets.find(endpointId);
    const expiresAt = secrets.previousExpiresAt ? new Date(secrets.previousExpiresAt) : null;
    const previousValid = secrets.previous !== null && expiresAt !== null && expiresAt > new Date();
    return {
      secret: secrets.current,
      previousSecret: previousValid ? secrets.previous : null,
      previousSecretExpiresAt: previousValid ? expiresAt : null,
    };
  }
}
