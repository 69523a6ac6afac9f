import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource, In, IsNull } from 'typeorm';
import {
  awaitConfigApplied,
  bucketOfKey,
  ConfigKeys,
  ConfigPublishers,
  ConfigView,
  EndpointType,
  NatsClient,
  SECRETS_VIEW,
  TokenView,
  type ConnectionTokenRecord,
  type CurrentValue,
  type EndpointRecord,
  type FilterRecord,
  type PublishedRevisions,
  type SecretsRecord,
  type TokenRecord,
} from '@app/messaging';
import { ApiTokenEntity, EndpointEntity, EventFilterEntity } from '@app/persistence';
import { connectionTokenHashOf, publishedMeta } from '@app/domain';
import type { ApiConfig } from './api.config.js';
import { API_CONFIG } from './api.tokens.js';
import { ApiError } from './graphql/api.error.js';
import { SecretsAtRest } from './webhook-secrets/secrets-at-rest.js';
import { SigningSecrets } from './webhook-secrets/signing-secrets.js';

const REPAIR_DELAY_MS = 2_000;
/** How many times a revocation asks the replicas before it answers that one has not applied it. */
const REVOCATION_ROUNDS = 3;
/** Keys published together by a reconcile (one read of PostgreSQL each). */
const RECONCILE_BATCH = 500;

/** The endpoint as the config bucket carries it: without its connection token's hash, which the tokens bucket carries. */
function toEndpointRecord(entity: EndpointEntity): EndpointRecord {
  const { id, name, state, resumeGeneration, version } = entity;
  return { id, name, ...publishedMeta(entity), state, resumeGeneration, version };
}

/** Needs the filter loaded with its endpoints. */
function toFilterRecord(entity: EventFilterEntity): FilterRecord {
  return {
    id: entity.id,
    endpointIds: entity.endpoints.map((endpoint) => endpoint.id),
    cameraIds: entity.cameraIds,
    agentIds: entity.agentIds,
    profileGroupIds: entity.profileGroupIds,
    eventTypes: entity.eventTypes,
    version: entity.version,
  };
}

/**
 * Carries endpoint and filter changes from PostgreSQL (the source of truth)
 * to the config bucket the data path watches. Every publish reads the
 * bucket, then PostgreSQL, and writes only a newer version on the condition
 * that the bucket's entry did not change meanwhile (ConfigPublisher): so any
 * number of api replicas, and the reconcile, may publish the same record at
 * once and the bucket still never goes backwards, and never brings back a
 * deleted record. The reconcile (at start, every CONFIG_RECONCILE_INTERVAL,
 * and shortly after a publish that failed) compares each row's version with
 * the version this replica's view of the bucket holds, and publishes the
 * keys that differ.
 */
@Injectable()
export class ConfigSync implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ConfigSync.name);
  private timer: NodeJS.Timeout | null = null;
  private repair: NodeJS.Timeout | null = null;
  private reconciling: Promise<void> | null = null;
  private again: Promise<void> | null = null;

  /** Whether the keys an older api wrote to the config bucket (secrets, tokens) were removed from it since this replica started. */
  private legacyRemoved = false;

  constructor(
    private readonly publisher: ConfigPublishers,
    private readonly view: ConfigView,
    @Inject(SECRETS_VIEW) private readonly secretsView: ConfigView,
    private readonly tokenView: TokenView,
    private readonly nats: NatsClient,
    private readonly dataSource: DataSource,
    private readonly secretsAtRest: SecretsAtRest,
    private readonly signingSecrets: SigningSecrets,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // A slow or unreachable NATS at start is repaired shortly after, never the end of the process.
    await this.reconcileSafely(true);
    this.timer = setInterval(() => void this.reconcileSafely(), this.config.CONFIG_RECONCILE_INTERVAL);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.repair) clearTimeout(this.repair);
  }

  /**
   * A new endpoint: returns once every dispatcher and gateway replica holds
   * it, so a websocket client may connect as soon as the mutation returns
   * (the gateway looks an endpoint up in its view alone). A webhook's sealed
   * signing material goes first, so the dispatcher never sees the endpoint
   * without it. Not published (NATS away): the repair carries it.
   */
  async endpointChanged(entity: EndpointEntity): Promise<void> {
    const revisions = await this.publishEndpoint(entity.id);
    if (revisions !== null) await this.replicasApplied(revisions);
  }

  /**
   * A change of how an endpoint is delivered to (a webhook's state, URL,
   * headers or secret; a websocket endpoint's access): returns once it has
   * taken effect in every dispatcher and gateway replica.
   */
  async deliveryChanged(entity: EndpointEntity): Promise<void> {
    await this.replicasApplied(await this.publishEndpoint(entity.id));
  }

  /**
   * `detachedFilterIds`: the filters that named the endpoint (they no longer
   * do). A webhook's deletion has taken effect in every dispatcher replica
   * when this returns, unless NATS is away (the deletion is done; the repair
   * carries it).
   */
  async endpointRemoved(entity: EndpointEntity, detachedFilterIds: string[]): Promise<void> {
    const revisions = await this.publish([
      ...detachedFilterIds.map(ConfigKeys.filter),
      ConfigKeys.secrets(entity.id),
      ConfigKeys.connectionToken(entity.id),
      ConfigKeys.endpoint(entity.id),
    ]);
    if (entity.type === EndpointType.WEB_HOOK && revisions !== null) await this.replicasApplied(revisions);
  }

  /** The revisions holding the endpoint as PostgreSQL has it now (null: not published yet, a repair follows). */
  private publishEndpoint(id: string): Promise<PublishedRevisions | null> {
    return this.publish([ConfigKeys.secrets(id), ConfigKeys.connectionToken(id), ConfigKeys.endpoint(id)]);
  }

  async filterChanged(entity: EventFilterEntity): Promise<void> {
    await this.publish([ConfigKeys.filter(entity.id)]);
  }

  async filterRemoved(id: string): Promise<void> {
    await this.publish([ConfigKeys.filter(id)]);
  }

  /**
   * A token made or revoked: returns once every api, ingest and gateway replica has
   * applied it (a revoked token is refused everywhere, a new one accepted).
   * A revocation (`strict`) is not answered as done while a replica may
   * still accept the token: the replicas are asked again, and if one has
   * still not applied it the caller gets UNAVAILABLE (the revocation is
   * saved; revoking again confirms it).
   */
  async tokenChanged(id: string, { strict = false }: { strict?: boolean } = {}): Promise<void> {
    const revisions = await this.publish([ConfigKeys.token(id)]);
    for (let round = 1; ; round += 1) {
      const lagging = await this.replicasApplied(revisions);
      if (lagging === 0 || !strict) return;
      if (round === REVOCATION_ROUNDS) {
        throw new ApiError('UNAVAILABLE', `the token is revoked, but ${lagging} replica(s) have not applied the revocation yet and may still accept it; revoke again to confirm`);
      }
    }
  }

  /**
   * Returns once every replica holding a view of a bucket the change went to
   * has applied the revision holding it, so that what follows the mutation
   * sees it: dispatchers and gateways for the config bucket, dispatchers for
   * the secrets, the api, ingest and gateways for the tokens. A replica that
   * has not within two seconds is logged, and counted in what this returns.
   * A change that could not be published is saved, and the caller is told it
   * has not taken effect yet.
   */
  private async replicasApplied(revisions: PublishedRevisions | null): Promise<number> {
    if (revisions === null) {
      throw new ApiError('UNAVAILABLE', 'the change is saved, but NATS is not reachable: it takes effect once it is; retry to confirm');
    }
    const { topology } = this.nats;
    const barriers = [
      { revision: revisions.config, bucket: topology.configBucket, subject: topology.configApplied, discoverMs: 100, who: 'dispatcher and gateway' },
      { revision: revisions.secrets, bucket: topology.secretsBucket, subject: topology.configApplied, discoverMs: 100, who: 'dispatcher' },
      // A longer discovery than the dispatchers': a busy ingest replica that answers late would not be waited for.
      { revision: revisions.tokens, bucket: topology.tokensBucket, subject: topology.tokensApplied, discoverMs: 500, who: 'api, ingest and gateway' },
    ];
    const lagging = await Promise.all(
      barriers.map(async ({ revision, bucket, subject, discoverMs, who }) => {
        if (revision === undefined) return 0;
        const outcome = await awaitConfigApplied(this.nats, revision, { subject, bucket, discoverMs });
        if (outcome.lagging > 0) this.logger.warn(`${outcome.lagging} of ${outcome.replicas} ${who} replicas had not applied ${bucket} revision ${revision} after 2 s`);
        return outcome.lagging;
      }),
    );
    return lagging.reduce((sum, count) => sum + count, 0);
  }

  /**
   * Publishes every key whose version in PostgreSQL differs from the one in
   * this replica's view of the bucket (a key only in the bucket included);
   * then marks the config published, which data-path views wait for.
   */
  async reconcile(): Promise<void> {
    // One at a time per replica. Asked for while one runs (a repair), it runs once more after it:
    // the running one may have read PostgreSQL before the change to repair.
    if (this.reconciling) {
      this.again ??= this.reconciling.catch(() => undefined).then(() => {
        this.again = null;
        return this.reconcile();
      });
      return this.again;
    }
    this.reconciling = this.reconcileOnce().finally(() => (this.reconciling = null));
    await this.reconciling;
  }

  private async reconcileOnce(): Promise<void> {
    await this.secretsAtRest.reseal();
    const endpoints = await this.dataSource.getRepository(EndpointEntity).find({ select: { id: true, type: true, version: true, meta: true } });
    const filters = await this.dataSource.getRepository(EventFilterEntity).find({ select: { id: true, version: true } });
    const expected = new Map<string, number>();
    for (const endpoint of endpoints) {
      expected.set(ConfigKeys.endpoint(endpoint.id), endpoint.version);
      if (endpoint.type === EndpointType.WEB_HOOK) expected.set(ConfigKeys.secrets(endpoint.id), endpoint.version);
      if (connectionTokenHashOf(endpoint) !== null) expected.set(ConfigKeys.connectionToken(endpoint.id), endpoint.version);
    }
    for (const filter of filters) expected.set(ConfigKeys.filter(filter.id), filter.version);
    const tokens = await this.dataSource.getRepository(ApiTokenEntity).find({ select: { id: true, version: true }, where: { revokedAt: IsNull() } });
    for (const token of tokens) expected.set(ConfigKeys.token(token.id), token.version);
    // Each key as the bucket it lives in holds it (an older api's secrets in the config bucket do not count).
    const published = new Map([
      ...[...this.view.publishedVersions()].filter(([key]) => bucketOfKey(key) === 'config'),
      ...[...this.secretsView.publishedVersions()].filter(([key]) => bucketOfKey(key) === 'secrets'),
      ...this.tokenView.publishedVersions(),
    ]);
    const differing = [...expected].filter(([key, version]) => published.get(key) !== version).map(([key]) => key);
    for (const key of published.keys()) if (!expected.has(key)) differing.push(key);
    // A webhook's secrets before its endpoint.
    differing.sort((a, b) => Number(!a.startsWith('secrets.')) - Number(!b.startsWith('secrets.')));
    for (let start = 0; start < differing.length; start += RECONCILE_BATCH) {
      await this.publisher.publish(differing.slice(start, start + RECONCILE_BATCH), (keys) => this.read(keys));
    }
    if (differing.length > 0) this.logger.log(`reconcile published ${differing.length} config keys`);
    await this.publisher.markPublished();
    if (!this.legacyRemoved) await this.removeLegacyKeys();
  }

  /** The secrets and tokens an older api kept in the config bucket go, once the reconcile above put them in their own buckets. */
  private async removeLegacyKeys(): Promise<void> {
    const removed = await this.publisher.removeLegacyKeys();
    if (removed > 0) this.logger.log(`removed ${removed} secrets and token keys from the config bucket (they live in buckets of their own now)`);
    this.legacyRemoved = true;
  }

  /** The records behind these keys as PostgreSQL holds them now. */
  private async read(keys: string[]): Promise<Map<string, CurrentValue>> {
    const endpointIds = new Set<string>();
    const filterIds: string[] = [];
    const tokenIds: string[] = [];
    for (const key of keys) {
      const parsed = ConfigKeys.parse(key);
      if (parsed?.kind === 'endpoint' || parsed?.kind === 'secrets' || parsed?.kind === 'connection-token') endpointIds.add(parsed.id);
      if (parsed?.kind === 'filter') filterIds.push(parsed.id);
      if (parsed?.kind === 'token') tokenIds.push(parsed.id);
    }
    const current = new Map<string, CurrentValue>();
    if (endpointIds.size > 0) {
      const endpoints = await this.dataSource
        .getRepository(EndpointEntity)
        .createQueryBuilder('endpoint')
        .addSelect('endpoint.sealedSecrets')
        .where('endpoint.id IN (:...ids)', { ids: [...endpointIds] })
        .getMany();
      for (const endpoint of endpoints) {
        current.set(ConfigKeys.endpoint(endpoint.id), { version: endpoint.version, value: JSON.stringify(toEndpointRecord(endpoint)) });
        // Sealed as PostgreSQL keeps it (SecretsAtRest): the dispatcher signs without PostgreSQL, and NATS never carries it in the clear.
        const sealed = endpoint.sealedSecrets ?? (endpoint.type === EndpointType.WEB_HOOK ? await this.signingSecrets.legacySealed(endpoint.id) : null);
        if (sealed) {
          const secrets: SecretsRecord = { version: endpoint.version, sealed };
          current.set(ConfigKeys.secrets(endpoint.id), { version: endpoint.version, value: JSON.stringify(secrets) });
        }
        const hash = connectionTokenHashOf(endpoint);
        if (hash !== null) {
          const connection: ConnectionTokenRecord = { endpointId: endpoint.id, hash, version: endpoint.version };
          current.set(ConfigKeys.connectionToken(endpoint.id), { version: endpoint.version, value: JSON.stringify(connection) });
        }
      }
    }
    if (filterIds.length > 0) {
      const filters = await this.dataSource.getRepository(EventFilterEntity).find({ where: { id: In(filterIds) }, relations: { endpoints: true } });
      for (const filter of filters) current.set(ConfigKeys.filter(filter.id), { version: filter.version, value: JSON.stringify(toFilterRecord(filter)) });
    }
    if (tokenIds.length > 0) {
      const tokens = await this.dataSource
        .getRepository(ApiTokenEntity)
        .createQueryBuilder('token')
        .addSelect('token.tokenHash')
        .where('token.id IN (:...ids) AND token.revoked_at IS NULL', { ids: tokenIds })
        .getMany();
      for (const token of tokens) {
        const { id, tokenHash: hash, scope, agentIds, endpointIds, version } = token;
        const record: TokenRecord = { id, hash, scope, agentIds, endpointIds, version };
        current.set(ConfigKeys.token(token.id), { version: token.version, value: JSON.stringify(record) });
      }
    }
    return current;
  }

  private async publish(keys: string[]): Promise<PublishedRevisions | null> {
    try {
      return await this.publisher.publish(keys, (wanted) => this.read(wanted));
    } catch (error) {
      // PostgreSQL already holds the change: it reaches the data path with the repair.
      this.logger.warn(`config publish failed, repairing in ${REPAIR_DELAY_MS} ms: ${(error as Error).message}`);
      this.scheduleRepair();
      return null;
    }
  }

  private scheduleRepair(): void {
    this.repair ??= setTimeout(() => {
      this.repair = null;
      void this.reconcileSafely(true);
    }, REPAIR_DELAY_MS);
  }

  private async reconcileSafely(repairing = false): Promise<void> {
    try {
      await this.reconcile();
    } catch (error) {
      this.logger.warn(`config reconcile failed: ${(error as Error).message}`);
      if (repairing) this.scheduleRepair();
    }
  }
}
