import { Logger } from '@nestjs/common';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import { ConfigKeys, type ConfigChange, type EndpointRecord, type FilterRecord } from './config-records.js';
import type { NatsClient } from './nats-connection.js';

/** Opens (creating if needed) the KV bucket that carries config to the data path. */
export async function openConfigBucket(client: NatsClient): Promise<KV> {
  return new Kvm(client.connection).create(client.topology.configBucket, { history: 1, storage: StorageType.File });
}

/** The api's side: writes each change after PostgreSQL committed it. */
export class ConfigPublisher {
  constructor(private readonly bucket: KV) {}

  async putEndpoint(endpoint: EndpointRecord): Promise<void> {
    await this.bucket.put(ConfigKeys.endpoint(endpoint.id), JSON.stringify(endpoint));
  }

  async removeEndpoint(id: string): Promise<void> {
    await this.bucket.delete(ConfigKeys.endpoint(id));
  }

  async putFilter(filter: FilterRecord): Promise<void> {
    await this.bucket.put(ConfigKeys.filter(filter.id), JSON.stringify(filter));
  }

  async removeFilter(id: string): Promise<void> {
    await this.bucket.delete(ConfigKeys.filter(id));
  }

  /** Makes the bucket equal to the source of truth (repairs a change whose publish failed). */
  async reconcile(endpoints: EndpointRecord[], filters: FilterRecord[]): Promise<void> {
    const wanted = new Map<string, string>([
      ...endpoints.map((endpoint): [string, string] => [ConfigKeys.endpoint(endpoint.id), JSON.stringify(endpoint)]),
      ...filters.map((filter): [string, string] => [ConfigKeys.filter(filter.id), JSON.stringify(filter)]),
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
      if (!wanted.has(key) && ConfigKeys.parse(key)) await this.bucket.delete(key);
    }
  }
}

/**
 * The data path's side: loads every endpoint and filter at start, then
 * applies changes as they are published. Works while PostgreSQL is down: it
 * never touches it.
 */
export class ConfigView {
  private readonly logger = new Logger(ConfigView.name);
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly filters = new Map<string, FilterRecord>();
  private readonly listeners: Array<(change: ConfigChange) => void> = [];
  private appliedRevision = 0;
  private stopWatch: (() => void) | null = null;

  constructor(private readonly bucket: KV) {}

  /** Resolves once the current config is loaded; changes keep flowing afterwards. */
  async start(): Promise<void> {
    const status = await this.bucket.status();
    const watch = await this.bucket.watch({ key: '>' });
    this.stopWatch = () => watch.stop();
    let markLoaded!: () => void;
    const loaded = new Promise<void>((resolve) => (markLoaded = resolve));
    if (status.values === 0) markLoaded();
    void (async () => {
      for await (const entry of watch) {
        this.apply(entry);
        if (entry.isUpdate || entry.delta === 0) markLoaded();
      }
    })().catch((error: unknown) => this.logger.error(`config watch ended: ${(error as Error).message}`));
    await loaded;
  }

  stop(): void {
    this.stopWatch?.();
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

  allEndpoints(): IterableIterator<EndpointRecord> {
    return this.endpoints.values();
  }

  allFilters(): IterableIterator<FilterRecord> {
    return this.filters.values();
  }

  endpoint(id: string): EndpointRecord | undefined {
    return this.endpoints.get(id);
  }

  /**
   * Like endpoint(), but asks the bucket directly when the endpoint is not
   * known yet: a client may connect right after the endpoint was created,
   * before the watch delivered it.
   */
  async lookupEndpoint(id: string): Promise<EndpointRecord | undefined> {
    const known = this.endpoints.get(id);
    if (known) return known;
    const entry = await this.bucket.get(ConfigKeys.endpoint(id));
    return entry && entry.operation === 'PUT' ? (entry.json() as EndpointRecord) : undefined;
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
    let change: ConfigChange;
    if (key.kind === 'endpoint') {
      if (put) {
        const endpoint = entry.json() as EndpointRecord;
        this.endpoints.set(key.id, endpoint);
        change = { kind: 'endpoint-upserted', endpoint };
      } else {
        this.endpoints.delete(key.id);
        change = { kind: 'endpoint-removed', endpointId: key.id };
      }
    } else if (put) {
      const filter = entry.json() as FilterRecord;
      this.filters.set(key.id, filter);
      change = { kind: 'filter-upserted', filter };
    } else {
      this.filters.delete(key.id);
      change = { kind: 'filter-removed', filterId: key.id };
    }
    for (const listener of this.listeners) listener(change);
  }
}
