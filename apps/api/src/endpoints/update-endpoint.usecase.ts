import { EndpointType, type WebhookMeta } from '@app/messaging';
import { Inject, Injectable } from '@nestjs/common';
import type { EndpointEntity } from '@app/persistence';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import { ApiError } from '../graphql/api.error.js';
import { headerMap, publicWebhookUrl, type WebhookMethod } from './endpoint-input.js';
import { SigningSecrets } from '../webhook-secrets/signing-secrets.js';
import { EndpointRegistry } from './endpoint-registry.js';
import { type HeaderInput } from './endpoint.model.js';

export interface WebhookChanges {
  name?: string | null;
  url?: string | null;
  method?: WebhookMethod | null;
  headers?: HeaderInput[] | null;
  /** 0 removes the limit. */
  maxRatePerSecond?: number | null;
}

/**
 * Renames an endpoint or changes a webhook's url, method or headers (only the
 * fields given); it reaches the data path. The changes are checked by the
 * rules of their GraphQL args (UpdateEndpointArgs); the url's host is checked here.
 */
@Injectable()
export class UpdateEndpoint {
  constructor(
    private readonly registry: EndpointRegistry,
    private readonly secrets: SigningSecrets,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async execute(id: string, changes: WebhookChanges): Promise<EndpointEntity> {
    // Checked before the row is locked (the url's check resolves its host).
    const name = changes.name ?? null;
    const headers = changes.headers != null ? headerMap(changes.headers) : null;
    const url = changes.url != null ? await publicWebhookUrl(changes.url, this.config.WEBHOOK_ALLOWED_NETWORKS) : null;
    const maxRatePerSecond = changes.maxRatePerSecond ?? null;
    const touchesWebhook = changes.url != null || changes.method != null || changes.headers != null || maxRatePerSecond !== null;
    return this.registry.change(id, (endpoint, sealedSecrets) => {
      if (touchesWebhook && endpoint.type !== EndpointType.WEB_HOOK) {
        const field = changes.url != null ? 'url' : changes.method != null ? 'method' : changes.headers != null ? 'headers' : 'maxRatePerSecond';
        throw ApiError.badInput(field, 'only a webhook endpoint has a url, a method and headers');
      }
      if (name !== null) endpoint.name = name;
      if (headers !== null) {
        endpoint.sealedSecrets = this.secrets.seal(endpoint.id, { ...this.secrets.open(endpoint.id, sealedSecrets!), customHeaders: headers });
        endpoint.meta = { ...endpoint.meta, headerNames: Object.keys(headers) };
      }
      if (touchesWebhook) {
        // A webhook's, as checked above.
        const meta = endpoint.meta as WebhookMeta;
        const { maxRatePerSecond: previousRate, ...rest } = { ...meta, ...(url !== null ? { url } : {}), ...(changes.method != null ? { method: changes.method } : {}) };
        const rate = maxRatePerSecond ?? previousRate ?? 0;
        endpoint.meta = rate > 0 ? { ...rest, maxRatePerSecond: rate } : rest;
      }
    });
  }
}
