import { Logger } from '@nestjs/common';
import { Kvm, type KV, type KvWatchEntry } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import { endpointIdOfKey, endpointKey, type ConfigChange, type EndpointRecord } from './config-records.js';
import type { NatsClient } from './nats-connection.js';

/** Opens (creating if needed) the KV bucket that carries config to the data path. */
export async function openConfigBucket(client: NatsClient): Promise<KV> {
  return new Kvm(client.connection).create(client.topology.configBucket, { history: 1, storage: StorageType.File });
}

/** The api's side: writes each change after PostgreSQL committed it. */
export class ConfigPublisher {
  constructor(private readonly bucket: KV) {}

  async putEndpoint(endpoint: EndpointRecord): Promise<void> {
    await this.bucket.put(endpointKey(endpoint.id), JSON.stringify(endpoint));
  }

  async removeEndpoint(id: string): Promise<void> {
    await this.bucket.delete(endpointKey(id));
  }

  /** Makes the bucket equal to the source of truth (repairs a change whose publish failed). */
  async reconcileEndpoints(endpoints: EndpointRecord[]): Promise<void> {
    const wanted = new Map(endpoints.map((endpoint) => [endpointKey(endpoint.id), JSON.stringify(endpoint)]));
    const present = new Map<string, string>();
    for await (const key of await this.bucket.keys('endpoints.>')) {
      const entry = await this.bucket.get(key);
      if (entry && entry.operation === 'PUT') present.set(key, entry.string());
    }
    for (const [key, value] of wanted) {
      if (present.get(key) !== value) await this.bucket.put(key, value);
    }
    for (const key of present.keys()) {
      if (!wanted.has(key)) await this.bucket.delete(key);
    }
  }

  /** Revision of the newest change in the bucket (0 when empty). */
  async revision(): Promise<number> {
    const status = await this.bucket.status();
    return status.streamInfo.state.last_seq;
  }
}

/**
 * The data path's side: loads every endpoint at start, then applies changes as
 * they are published. Works while PostgreSQL is down: it never touches it.
 */
export class ConfigView {
  private readonly logger = new Logger(ConfigView.name);
  private readonly endpoints = new Map<string, EndpointRecord>();
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
        if (!entry.isUpdate && entry.delta === 0) markLoaded();
        if (entry.isUpdate) markLoaded();
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

  get size(): number {
    return this.endpoints.size;
  }

  all(): IterableIterator<EndpointRecord> {
    return this.endpoints.values();
  }

  get(id: string): EndpointRecord | undefined {
    return this.endpoints.get(id);
  }

  /**
   * Like get, but asks the bucket directly when the endpoint is not known yet:
   * a client may connect right after the endpoint was created, before the
   * watch delivered it.
   */
  async lookup(id: string): Promise<EndpointRecord | undefined> {
    const known = this.endpoints.get(id);
    if (known) return known;
    const entry = await this.bucket.get(endpointKey(id));
    return entry && entry.operation === 'PUT' ? (entry.json() as EndpointRecord) : undefined;
  }

  onChange(listener: (change: ConfigChange) => void): void {
    this.listeners.push(listener);
  }

  private apply(entry: KvWatchEntry): void {
    const id = endpointIdOfKey(entry.key);
    this.appliedRevision = Math.max(this.appliedRevision, entry.revision);
    if (id === null) return;
    let change: ConfigChange;
    if (entry.operation === 'PUT') {
      const endpoint = entry.json() as EndpointRecord;
      this.endpoints.set(id, endpoint);
      change = { kind: 'endpoint-upserted', endpoint };
    } else {
      this.endpoints.delete(id);
      change = { kind: 'endpoint-removed', endpointId: id };
    }
    for (const listener of this.listeners) listener(change);
  }
}
