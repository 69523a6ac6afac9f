import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { EndpointState, EndpointType, type ManualState } from '@app/messaging';
import { EndpointEntity, EventFilterEntity, retryOnConflict } from '@app/persistence';
import { ConfigSync } from '../config-sync.js';
import { ApiError } from '../graphql/api.error.js';
import { keysOf, parseUuid } from '../graphql/collection.model.js';
import { SigningSecrets } from '../webhook-secrets/signing-secrets.js';

/** The endpoint records the endpoint use cases and the resolver share; every change reaches the data path. */
@Injectable()
export class EndpointRegistry {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sync: ConfigSync,
    private readonly secrets: SigningSecrets,
  ) {}

  private get repository() {
    return this.dataSource.getRepository(EndpointEntity);
  }

  private get filters() {
    return this.dataSource.getRepository(EventFilterEntity);
  }

  /** The endpoints an input names (UUIDs, by its rules), each of which must exist: else BAD_USER_INPUT on `endpointIds`. */
  async existing(ids: string[]): Promise<EndpointEntity[]> {
    const wanted = keysOf(ids);
    if (wanted.length === 0) return [];
    const found = await this.repository.findBy({ id: In(wanted) });
    const missing = wanted.filter((id) => !found.some((endpoint) => endpoint.id === id));
    if (missing.length > 0) throw ApiError.badInput('endpointIds', `unknown endpoint ids: ${missing.join(', ')}`);
    return found;
  }

  /** The endpoint, or NOT_FOUND on `field` (the argument that named it). */
  async find(id: string, field = 'id'): Promise<EndpointEntity> {
    const endpoint = await this.repository.findOneBy({ id: parseUuid(field, id) });
    if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${id}`, field);
    return endpoint;
  }

  /**
   * Changes an endpoint under its row lock, then publishes it: two replicas'
   * changes never overwrite each other, and an endpoint deleted meanwhile is
   * NOT_FOUND (on `field`), never created again by the save. `apply` gets the
   * webhook's sealed secrets too (SigningSecrets opens them) and may replace
   * them. A webhook's change has taken effect in every dispatcher replica
   * when this returns. A transaction PostgreSQL rolls back for a concurrent
   * one runs again.
   */
  async change(id: string, apply: (endpoint: EndpointEntity, sealedSecrets: string | null) => void, { field = 'id' } = {}): Promise<EndpointEntity> {
    const key = parseUuid(field, id);
    const saved = await retryOnConflict(() =>
      this.dataSource.transaction(async (manager) => {
        const repository = manager.getRepository(EndpointEntity);
        const endpoint = await repository
          .createQueryBuilder('endpoint')
          .addSelect('endpoint.sealedSecrets')
          .where('endpoint.id = :key', { key })
          .setLock('pessimistic_write')
          .getOne();
        if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${id}`, field);
        // A webhook an older version kept in plaintext is sealed first (the save then keeps it so).
        endpoint.sealedSecrets ??= endpoint.type === EndpointType.WEB_HOOK ? await this.secrets.sealLegacy(endpoint.id, manager) : null;
        apply(endpoint, endpoint.sealedSecrets);
        return repository.save(endpoint);
      }),
    );
    // Whatever changed (a webhook's delivery, a websocket endpoint's access) holds in every replica before this returns.
    await this.sync.deliveryChanged(saved);
    return saved;
  }

  /** Saves a new endpoint and publishes it to the data path. */
  async save(endpoint: EndpointEntity): Promise<EndpointEntity> {
    const saved = await retryOnConflict(() => this.repository.save(endpoint));
    await this.sync.endpointChanged(saved);
    return saved;
  }

  /** Pauses or resumes a webhook endpoint; a resume starts the next resume generation. */
  async changeState(id: string, state: ManualState): Promise<EndpointEntity> {
    return this.change(id, (endpoint) => {
      if (endpoint.type !== EndpointType.WEB_HOOK) throw ApiError.badInput('id', 'only a webhook endpoint is paused or resumed');
      endpoint.state = state;
      if (state === EndpointState.ACTIVE) endpoint.resumeGeneration += 1;
    });
  }

  /** The ids of the filters that route to an endpoint. */
  async filterIdsOf(endpointId: string): Promise<string[]> {
    const rows = await this.filters
      .createQueryBuilder('filter')
      .innerJoin('filter.endpoints', 'endpoint', 'endpoint.id = :endpointId', { endpointId })
      .select('filter.id', 'id')
      .getRawMany<{ id: string }>();
    return rows.map((row) => row.id);
  }
}
