import { EndpointType } from '@app/messaging';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointEntity } from '@app/persistence';
import { generateSecret } from '@app/webhooks';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import { parseHeaders, parseName, parsePublicWebhookUrl, WebhookMethod, parseMaxRate } from './endpoint-input.js';
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

/** Creates a websocket or a webhook endpoint (a webhook with a fresh signing secret); it reaches the data path. */
@Injectable()
export class CreateEndpoint {
  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: EndpointRegistry,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async execute(input: NewEndpoint): Promise<EndpointEntity> {
    if (input.type === EndpointType.WEB_SOCKET) {
      return this.create({ name: parseName(input.name), type: EndpointType.WEB_SOCKET, meta: {} });
    }
    const customHeaders = parseHeaders(input.headers ?? []);
    const maxRatePerSecond = parseMaxRate(input.maxRatePerSecond ?? 0);
    const meta = {
      url: await parsePublicWebhookUrl(input.url, this.config.WEBHOOK_ALLOWED_NETWORKS),
      method: input.method ?? WebhookMethod.POST,
      headerNames: Object.keys(customHeaders),
      ...(maxRatePerSecond > 0 ? { maxRatePerSecond } : {}),
    };
    return this.create({ name: parseName(input.name), type: EndpointType.WEB_HOOK, meta, signingSecret: generateSecret(), customHeaders });
  }

  private create(fields: Pick<EndpointEntity, 'name' | 'type' | 'meta'> & Partial<Pick<EndpointEntity, 'signingSecret' | 'customHeaders'>>): Promise<EndpointEntity> {
    return this.registry.save(this.dataSource.getRepository(EndpointEntity).create({ id: randomUUID(), ...fields }));
  }
}
