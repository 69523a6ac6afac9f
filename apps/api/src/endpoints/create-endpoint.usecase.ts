import { EndpointType } from '@app/messaging';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointEntity } from '@app/persistence';
import { generateSecret } from '@app/webhooks';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import { headerMap, publicWebhookUrl, WebhookMethod } from './endpoint-input.js';
import { SigningSecrets } from '../webhook-secrets/signing-secrets.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { type HeaderInput } from './endpoint.model.js';

export type NewEndpoint =
  | { type: typeof EndpointType.WEB_SOCKET; name: string }
  | {
      type: typeof EndpointType.WEB_HOOK;
      name: string;
      url: string;
      method?: WebhookMethod | null;
      headers?: HeaderInput[] | null;
      maxRatePerSecond?: number | null;
    };

/**
 * Creates a websocket or a webhook endpoint (a webhook with a fresh signing
 * secret); it reaches the data path. The input is checked by the rules of
 * its GraphQL args (CreateWebhookEndpointArgs); the url's host is checked here.
 */
@Injectable()
export class CreateEndpoint {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: EndpointRegistry,
    private readonly secrets: SigningSecrets,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async execute(input: NewEndpoint): Promise<EndpointEntity> {
    if (input.type === EndpointType.WEB_SOCKET) {
      return this.create({ name: input.name, type: EndpointType.WEB_SOCKET, meta: {} });
    }
    const customHeaders = headerMap(input.headers ?? []);
    const maxRatePerSecond = input.maxRatePerSecond ?? 0;
    const meta = {
      url: await publicWebhookUrl(input.url, this.config.WEBHOOK_ALLOWED_NETWORKS),
      method: input.method ?? WebhookMethod.POST,
      headerNames: Object.keys(customHeaders),
      ...(maxRatePerSecond > 0 ? { maxRatePerSecond } : {}),
    };
    const id = randomUUID();
    const sealedSecrets = this.secrets.seal(id, { current: generateSecret(), previous: null, previousExpiresAt: null, customHeaders });
    return this.create({ name: input.name, type: EndpointType.WEB_HOOK, meta, sealedSecrets }, id);
  }

  private create(fields: Pick<EndpointEntity, 'name' | 'type' | 'meta'> & Partial<Pick<EndpointEntity, 'sealedSecrets'>>, id = randomUUID()): Promise<EndpointEntity> {
    return this.registry.save(this.dataSource.getRepository(EndpointEntity).create({ id, ...fields }));
  }
}
