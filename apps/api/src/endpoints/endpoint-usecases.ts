import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { assertPublicTarget, ForbiddenTargetError, generateSecret } from '@app/webhooks';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import { DataSource, In, type FindOptionsWhere } from 'typeorm';
import { effectiveState, EndpointState, type ManualState } from '@app/messaging';
import { EndpointEntity, EndpointHealthEntity, EventFilterEntity } from '@app/persistence';
import { ApiError } from '../graphql/api.error.js';
import { assertUuid, idsOf, pageOf } from '../graphql/collection.model.js';
import { ConfigSync } from '../config-sync.js';
import { parseHeaders, parseName, parseWebhookUrl, WebhookMethod } from './endpoint-input.js';
import { EndpointTypeValue, type EndpointFilters, type EndpointOrder, type HeaderInput } from './endpoint.model.js';
import type { Pagination } from '../graphql/collection.model.js';

export interface WebhookChanges {
  name?: string | null;
  url?: string | null;
  method?: WebhookMethod | null;
  headers?: HeaderInput[] | null;
}

/** Creates, changes, deletes and lists endpoints; every change reaches the data path. */
@Injectable()
export class EndpointUseCases {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sync: ConfigSync,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  private get repository() {
    return this.dataSource.getRepository(EndpointEntity);
  }

  private get filters() {
    return this.dataSource.getRepository(EventFilterEntity);
  }

  async createWebSocket(name: string): Promise<EndpointEntity> {
    return this.create({ name: parseName(name), type: EndpointTypeValue.WEB_SOCKET, meta: {} });
  }

  async createWebhook(name: string, url: string, method: WebhookMethod | null | undefined, headers: HeaderInput[] | null | undefined): Promise<EndpointEntity> {
    const customHeaders = parseHeaders(headers ?? []);
    const meta = { url: await this.publicWebhookUrl(url), method: method ?? WebhookMethod.POST, headerNames: Object.keys(customHeaders) };
    return this.create({ name: parseName(name), type: EndpointTypeValue.WEB_HOOK, meta, signingSecret: generateSecret(), customHeaders });
  }

  /** Stops sending to a webhook endpoint; its deliveries wait (in PostgreSQL) until it is resumed. */
  async pause(id: string): Promise<EndpointEntity> {
    return this.changeState(id, EndpointState.PAUSED_BY_HAND);
  }

  /**
   * Sends again, whatever paused or disabled the endpoint (by hand, after
   * failures, or by 410): the next resume generation sets the dispatcher's
   * health from before aside; what was waiting goes out at once.
   */
  async resume(id: string): Promise<EndpointEntity> {
    return this.changeState(id, EndpointState.ACTIVE);
  }

  private async changeState(id: string, state: ManualState): Promise<EndpointEntity> {
    const endpoint = await this.find(id);
    if (endpoint.type !== EndpointTypeValue.WEB_HOOK) throw ApiError.badInput('id', 'only a webhook endpoint is paused or resumed');
    endpoint.state = state;
    if (state === EndpointState.ACTIVE) endpoint.resumeGeneration += 1;
    const saved = await this.repository.save(endpoint);
    await this.sync.endpointChanged(saved);
    return saved;
  }

  /** A valid http(s) URL whose host resolves to no internal address (unless allowed). */
  private async publicWebhookUrl(value: string): Promise<string> {
    const url = parseWebhookUrl(value);
    try {
      await assertPublicTarget(new URL(url), this.config.WEBHOOK_ALLOWED_NETWORKS);
    } catch (error) {
      if (error instanceof ForbiddenTargetError) throw ApiError.badInput('url', error.message);
      // A host that does not resolve yet is accepted: every connection is checked again when it is opened.
    }
    return url;
  }

  async update(id: string, changes: WebhookChanges): Promise<EndpointEntity> {
    const endpoint = await this.find(id);
    if (changes.name != null) endpoint.name = parseName(changes.name);
    const touchesWebhook = changes.url != null || changes.method != null || changes.headers != null;
    if (touchesWebhook && endpoint.type !== EndpointTypeValue.WEB_HOOK) {
      const field = changes.url != null ? 'url' : changes.method != null ? 'method' : 'headers';
      throw ApiError.badInput(field, 'only a webhook endpoint has a url, a method and headers');
    }
    if (changes.headers != null) {
      endpoint.customHeaders = parseHeaders(changes.headers);
      endpoint.meta = { ...endpoint.meta, headerNames: Object.keys(endpoint.customHeaders) };
    }
    if (touchesWebhook) {
      endpoint.meta = {
        ...endpoint.meta,
        ...(changes.url != null ? { url: await this.publicWebhookUrl(changes.url) } : {}),
        ...(changes.method != null ? { method: changes.method } : {}),
      };
    }
    const saved = await this.repository.save(endpoint);
    await this.sync.endpointChanged(saved);
    return saved;
  }

  /** Deletes the endpoint and detaches it from its filters, which stay. */
  async delete(id: string): Promise<boolean> {
    const endpoint = await this.find(id);
    const filterIds = (await this.filtersOf(endpoint.id)).map((filter) => filter.id);
    await this.repository.delete({ id: endpoint.id });
    const detached = filterIds.length > 0 ? await this.filters.find({ where: { id: In(filterIds) }, relations: { endpoints: true } }) : [];
    await this.sync.endpointRemoved(endpoint.id, detached);
    return true;
  }

  /** The state integrators see: a pause by hand, else the dispatcher's health (unless a later resume set it aside). */
  async stateOf(endpoint: EndpointEntity): Promise<EndpointState> {
    const health = await this.dataSource.getRepository(EndpointHealthEntity).findOneBy({ endpointId: endpoint.id });
    return effectiveState(endpoint.state, endpoint.resumeGeneration, health ?? undefined);
  }

  /** The filters that route to an endpoint, each with all its endpoints. */
  async filtersOf(endpointId: string): Promise<EventFilterEntity[]> {
    const ids = await this.filters
      .createQueryBuilder('filter')
      .innerJoin('filter.endpoints', 'endpoint', 'endpoint.id = :endpointId', { endpointId })
      .select('filter.id', 'id')
      .getRawMany<{ id: string }>();
    if (ids.length === 0) return [];
    return this.filters.find({
      where: { id: In(ids.map((row) => row.id)) },
      relations: { endpoints: true },
      order: { creationDate: 'ASC', id: 'ASC' },
    });
  }

  async list(
    filters: EndpointFilters | undefined,
    order: EndpointOrder | undefined,
    pagination: Pagination | undefined,
  ): Promise<{ totalCount: number; collectionItems: EndpointEntity[] }> {
    const where: FindOptionsWhere<EndpointEntity> = {};
    const ids = idsOf('filters.id', filters?.id);
    if (ids) where.id = In(ids);
    if (filters?.type?.exact) where.type = filters.type.exact;
    const { offset, limit } = pageOf(pagination);
    const direction = order?.creationDate ?? 'ASC';
    const [collectionItems, totalCount] = await this.repository.findAndCount({
      where,
      order: { creationDate: direction, id: direction },
      skip: offset,
      take: limit,
    });
    return { totalCount, collectionItems };
  }

  private async create(fields: Pick<EndpointEntity, 'name' | 'type' | 'meta'> & Partial<Pick<EndpointEntity, 'signingSecret' | 'customHeaders'>>): Promise<EndpointEntity> {
    const saved = await this.repository.save(this.repository.create({ id: randomUUID(), ...fields }));
    await this.sync.endpointChanged(saved);
    return saved;
  }

  private async find(id: string): Promise<EndpointEntity> {
    assertUuid('id', id);
    const endpoint = await this.repository.findOneBy({ id });
    if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${id}`, 'id');
    return endpoint;
  }
}
