import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import { backoffMs, DependencyUnavailableError, retryWhileTransient } from '@app/runtime';
import { ConfigKeys, type ConfigChange, type EndpointRecord, type EndpointView, type FilterRecord } from './config-records.js';
import { effectiveState, EndpointState, type EndpointHealth } from './endpoint-state.js';
import type { NatsClient } from './nats-connection.js';

/** Opens (creating if needed) the KV bucket that carries config to the data path. */
export async function openConfigBucket(client: NatsClient): Promise<KV> {
  return retryWhileTransient('config bucket set-up', () => new Kvm(client.connection).create(client.topology.configBucket, { history: 1, storage: StorageType.File }));
}

/** The api's side: writes each change after PostgreSQL committed it. */
export class ConfigPublisher {
  constructor(private readonly bucket: KV) {}

  async putEndpoint(endpoint: EndpointRecord): Promise<void> {
    await this.bucket.put(ConfigKeys.endpoint(endpoint.id), JSON.stringify(endpoint));
  }

  async removeEndpoint(id: string): Promise<void> {
    await this.bucket.delete(ConfigKeys.endpoint(id));
    await this.bucket.delete(ConfigKeys.secrets(id));
  }

  /** A webhook's signing material, already sealed by the caller. */
  async putSecrets(endpointId: string, sealed: string): Promise<void> {
    await this.bucket.put(ConfigKeys.secrets(endpointId), sealed);
  }

  async putFilter(filter: FilterRecord): Promise<void> {
    await this.bucket.put(ConfigKeys.filter(filter.id), JSON.stringify(filter));
  }

  async removeFilter(id: string): Promise<void> {
    await this.bucket.delete(ConfigKeys.filter(id));
  }

  /**
   * Makes the bucket equal to the source of truth (repairs a change whose
   * publish failed). `sealedSecrets`: endpoint id → sealed signing material.
   */
  async reconcile(endpoints: EndpointRecord[], filters: FilterRecord[], sealedSecrets: Map<string, string>): Promise<void> {
    const wanted = new Map<string, string>([
      ...endpoints.map((endpoint): [string, string] => [ConfigKeys.endpoint(endpoint.id), JSON.stringify(endpoint)]),
      ...filters.map((filter): [string, string] => [ConfigKeys.filter(filter.id), JSON.stringify(filter)]),
      ...[...sealedSecrets].map(([id, sealed]): [string, string] => [ConfigKeys.secrets(id), sealed]),
    ]);
    const present = new Map<string, string>();
    // One pass over the bucket's last values (a watch that stops once caught up).
    const watch = await this.bucket.watch({ key: '>' });
    const status = await this.bucket.status();
    if (status.values > 0) {
      for await (const entry of watch) {
        if (entry.operation === 'PUT') present.set(entry.key, entry.string());
        if (entry.isUpdate || entry.delta === 0) break;
      }
    }
    watch.stop();
    for (const [key, value] of wanted) {
      if (present.get(key) !== value) await this.bucket.put(key, value);
    }
    for (const key of present.keys()) {
      const parsed = ConfigKeys.parse(key);
      // Health keys are the dispatcher's: never the api's to delete.
      if (!wanted.has(key) && parsed && parsed.kind !== 'health') await this.bucket.delete(key);
    }
  }
}

/** The dispatcher's side: its own record of each endpoint's delivery health. */
export class EndpointHealthPublisher {
  constructor(private readonly bucket: KV) {}

  async put(endpointId: string, health: EndpointHealth): Promise<void> {
    await this.bucket.put(ConfigKeys.health(endpointId), JSON.stringify(health));
  }
}

/**
 * The data path's side: loads every endpoint and filter at start, then
 * applies changes as they are published. Works while PostgreSQL is down: it
 * never touches it. When the watch ends (NATS restarted, the watch's consumer
 * was removed) it resumes from the revision after the last one applied, and
 * `healthy` is false until it does.
 */
export class ConfigView {
  private readonly logger = new Logger(ConfigView.name);
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly filters = new Map<string, FilterRecord>();
  private readonly secrets = new Map<string, string>();
  private readonly health = new Map<string, EndpointHealth>();
  private readonly listeners: Array<(change: ConfigChange) => void> = [];
  private appliedRevision = 0;
  private loaded = false;
  private watching = false;
  private stopped = false;
  private resuming = false;
  private stopWatch: (() => void) | null = null;
  /** Values that could not be read (malformed JSON); skipped, counted and logged. */
  malformed = 0;

  constructor(private readonly bucket: KV) {}

  /** Resolves once the current config is loaded; changes keep flowing afterwards. */
  async start(): Promise<void> {
    await retryWhileTransient('config watch', () => this.watch());
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
  }

  /** Loaded, and still watching for changes. */
  get healthy(): boolean {
    return this.loaded && this.watching;
  }

  /**
   * Opens a watch from the revision after the last applied one (all current
   * values the first time); resolves once caught up with the bucket.
   */
  private async watch(): Promise<void> {
    const status = await this.bucket.status();
    const resuming = this.appliedRevision > 0;
    const watch = await this.bucket.watch(resuming ? { key: '>', resumeFromRevision: this.appliedRevision + 1 } : { key: '>' });
    this.stopWatch = () => watch.stop();
    let markCaughtUp!: () => void;
    let endedEarly!: (error: Error) => void;
    const caughtUp = new Promise<void>((resolve, reject) => {
      markCaughtUp = resolve;
      endedEarly = reject;
    });
    const upToDate = () => {
      this.loaded = true;
      this.watching = true;
      markCaughtUp();
    };
    if (status.values === 0 || (resuming && status.streamInfo.state.last_seq <= this.appliedRevision)) upToDate();
    void (async () => {
      for await (const entry of watch) {
        this.apply(entry);
        if (entry.isUpdate || entry.delta === 0) upToDate();
      }
    })()
      .catch((error: unknown) => this.logger.error(`config watch failed: ${(error as Error).message}`))
      .finally(() => {
        this.watching = false;
        // Ended before it caught up: the view is not loaded, and start() must not say it is.
        endedEarly(new DependencyUnavailableError('the config watch ended before it caught up with the bucket'));
        // Before the first load, start() retries; afterwards the watch resumes itself.
        if (!this.stopped && !this.resuming && this.loaded) void this.resume();
      });
    await caughtUp;
  }

  private async resume(): Promise<void> {
    if (this.resuming) return;
    this.resuming = true;
    this.logger.warn(`config watch ended at revision ${this.appliedRevision}; resuming`);
    try {
      for (let failures = 1; !this.stopped && !this.watching; failures += 1) {
        await sleep(backoffMs(failures, 200, 5_000));
        if (this.stopped) return;
        await this.watch().catch((error: Error) => this.logger.warn(`cannot resume the config watch: ${error.message}`));
      }
    } finally {
      this.resuming = false;
    }
  }

  /** The newest config revision applied here. */
  get revision(): number {
    return this.appliedRevision;
  }

  get endpointCount(): number {
    return this.endpoints.size;
  }

  get filterCount(): number {
    return this.filters.size;
  }

  /** Every endpoint, with the state its two owners' records make. */
  *allEndpoints(): IterableIterator<EndpointView> {
    for (const record of this.endpoints.values()) yield this.view(record);
  }

  allFilters(): IterableIterator<FilterRecord> {
    return this.filters.values();
  }

  /** The endpoint, with the state its two owners' records make (paused by hand, or the dispatcher's health). */
  endpoint(id: string): EndpointView | undefined {
    const record = this.endpoints.get(id);
    return record && this.view(record);
  }

  private view(record: EndpointRecord): EndpointView {
    return { ...record, state: effectiveState(record.state, record.resumeGeneration ?? 0, this.health.get(record.id)) };
  }

  /** Ids of the endpoints not active now (paused by hand or by failures, disabled): few, however many endpoints there are. */
  inactiveEndpointIds(): string[] {
    const ids: string[] = [];
    for (const record of this.endpoints.values()) {
      if (effectiveState(record.state, record.resumeGeneration ?? 0, this.health.get(record.id)) !== EndpointState.ACTIVE) ids.push(record.id);
    }
    return ids;
  }

  /** A webhook's sealed signing material (SecretBox opens it), if published. */
  sealedSecrets(endpointId: string): string | undefined {
    return this.secrets.get(endpointId);
  }

  /**
   * Like endpoint(), but asks the bucket directly when the endpoint is not
   * known yet: a client may connect right after the endpoint was created,
   * before the watch delivered it.
   */
  async lookupEndpoint(id: string): Promise<EndpointView | undefined> {
    const known = this.endpoint(id);
    if (known) return known;
    const entry = await this.bucket.get(ConfigKeys.endpoint(id));
    return entry && entry.operation === 'PUT' ? this.view(entry.json() as EndpointRecord) : undefined;
  }

  /** Listeners run synchronously, in bucket order, before the next change is applied. */
  onChange(listener: (change: ConfigChange) => void): void {
    this.listeners.push(listener);
  }

  private apply(entry: KvWatchEntry): void {
    this.appliedRevision = Math.max(this.appliedRevision, entry.revision);
    const key = ConfigKeys.parse(entry.key);
    if (key === null) return;
    const put = entry.operation === 'PUT';
    if (key.kind === 'secrets') {
      if (put) this.secrets.set(key.id, entry.string());
      else this.secrets.delete(key.id);
      return;
    }
    let value: unknown = null;
    if (put) {
      try {
        value = entry.json();
      } catch {
        this.malformed += 1;
        this.logger.error(`config key ${entry.key} (revision ${entry.revision}) is not JSON; skipped`);
        return;
      }
    }
    if (key.kind === 'health') {
      if (put) this.health.set(key.id, value as EndpointHealth);
      else this.health.delete(key.id);
      const endpoint = this.endpoint(key.id);
      if (endpoint) for (const listener of this.listeners) listener({ kind: 'endpoint-upserted', endpoint });
      return;
    }
    let change: ConfigChange;
    if (key.kind === 'endpoint') {
      if (put) {
        const record = value as EndpointRecord;
        this.endpoints.set(key.id, record);
        change = { kind: 'endpoint-upserted', endpoint: this.view(record) };
      } else {
        this.endpoints.delete(key.id);
        change = { kind: 'endpoint-removed', endpointId: key.id };
      }
    } else if (put) {
      const filter = value as FilterRecord;
      this.filters.set(key.id, filter);
      change = { kind: 'filter-upserted', filter };
    } else {
      this.filters.delete(key.id);
      change = { kind: 'filter-removed', filterId: key.id };
    }
    for (const listener of this.listeners) listener(change);
  }
}
