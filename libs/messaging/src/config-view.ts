import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { backoffMs, DependencyUnavailableError, retryWhileTransient } from '@app/runtime';
import { carriesConnectionToken, ConfigKeys, ENDPOINT_TYPES, type ConfigChange, type EndpointRecord, type EndpointView, type FilterRecord, type SecretsRecord } from './config-records.js';
import { AppliedRevision } from './applied-revision.js';
import { effectiveState, EndpointState, isMetaOf, type EndpointHealth, type EndpointType } from '@app/domain';

/**
 * The data path's side: loads every endpoint and filter at start, then
 * applies changes as they are published. Works while PostgreSQL is down: it
 * never touches it. When the watch ends (NATS restarted, the watch's consumer
 * was removed) it resumes from the revision after the last one applied, and
 * `healthy` is false until it does. It is not loaded either until the api
 * has published the whole config once (the `published` key): an empty or
 * missing bucket means "not known yet", never "no endpoints".
 */
export class ConfigView {
  private readonly logger = new Logger(ConfigView.name);
  private readonly endpoints = new Map<string, EndpointRecord>();
  private readonly filters = new Map<string, FilterRecord>();
  private readonly secrets = new Map<string, SecretsRecord>();
  private readonly health = new Map<string, EndpointHealth>();
  private readonly listeners: Array<(change: ConfigChange) => void> = [];
  private readonly applied = new AppliedRevision();
  private loaded = false;
  private published = false;
  private markPublished!: () => void;
  /** Resolves once the api has published the whole config (see ConfigKeys.published). */
  readonly whenPublished = new Promise<void>((resolve) => (this.markPublished = resolve));
  private watching = false;
  private stopped = false;
  private resuming = false;
  private stopWatch: (() => void) | null = null;
  /** Values that could not be read (not JSON, or not the shape of their key); skipped, counted and logged. */
  malformed = 0;

  constructor(private readonly bucket: KV) {}

  /** Resolves once caught up with the bucket (see whenPublished); changes keep flowing afterwards. */
  async start(): Promise<void> {
    await retryWhileTransient('config watch', () => this.watch());
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    this.applied.release();
  }

  /** Loaded (the api's whole config), and still watching for changes: only then is "not in my view" "does not exist". */
  get healthy(): boolean {
    return this.loaded && this.watching && this.published;
  }

  /**
   * Opens a watch from the revision after the last applied one (all current
   * values the first time); resolves once caught up with the bucket.
   */
  private async watch(): Promise<void> {
    const status = await this.bucket.status();
    const resuming = this.applied.value > 0;
    const watch = await this.bucket.watch(resuming ? { key: '>', resumeFromRevision: this.applied.value + 1 } : { key: '>' });
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
    if (status.values === 0 || (resuming && status.streamInfo.state.last_seq <= this.applied.value)) upToDate();
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
    this.logger.warn(`config watch ended at revision ${this.applied.value}; resuming`);
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
    return this.applied.value;
  }

  /** True once the view has applied `revision` (at once if it has), false if `timeoutMs` passes first. */
  async reached(revision: number, timeoutMs: number): Promise<boolean> {
    return this.applied.reached(revision, timeoutMs);
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

  /** The webhook-dispatcher's record of the endpoint's delivery health (`health.<id>`), if it made one. */
  healthOf(endpointId: string): EndpointHealth | undefined {
    return this.health.get(endpointId);
  }

  /** A webhook's sealed signing material (SecretBox opens it), if published. */
  sealedSecrets(endpointId: string): string | undefined {
    return this.secrets.get(endpointId)?.sealed;
  }

  /** The version of every record the api published (its reconcile compares them with PostgreSQL's). */
  *publishedVersions(): IterableIterator<[key: string, version: number]> {
    // A record an older api published with its connection token's hash counts as none: it is published again without it.
    for (const [id, record] of this.endpoints) yield [ConfigKeys.endpoint(id), carriesConnectionToken(record.meta) ? -1 : record.version];
    for (const [id, record] of this.filters) yield [ConfigKeys.filter(id), record.version];
    for (const [id, record] of this.secrets) yield [ConfigKeys.secrets(id), record.version];
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
    const record = entry?.operation === 'PUT' ? readValue(entry.string(), isEndpointRecord) : undefined;
    return record && this.view(record);
  }

  /** Listeners run synchronously, in bucket order, before the next change is applied. */
  onChange(listener: (change: ConfigChange) => void): void {
    this.listeners.push(listener);
  }

  private apply(entry: KvWatchEntry): void {
    this.applyEntry(entry);
    this.applied.advance(entry.revision);
  }

  private applyEntry(entry: KvWatchEntry): void {
    if (entry.key === ConfigKeys.published) {
      if (entry.operation === 'PUT' && !this.published) {
        this.published = true;
        this.markPublished();
      }
      return;
    }
    const parsed = ConfigKeys.parse(entry.key);
    // Tokens are TokenView's (another bucket now; an older api wrote them here).
    if (parsed === null || parsed.kind === 'token' || parsed.kind === 'connection-token') return;
    const key: ConfigKey = { kind: parsed.kind, id: parsed.id };
    const put = entry.operation === 'PUT';
    const change = put ? this.put(key, entry) : this.remove(key);
    if (change === 'malformed') {
      this.malformed += 1;
      this.logger.error(`config key ${entry.key} (revision ${entry.revision}) is not a valid ${key.kind} record; skipped`);
      return;
    }
    for (const listener of this.listeners) {
      try {
        if (change) listener(change);
      } catch (error) {
        // One listener's failure neither ends the watch nor keeps the change from the others.
        this.logger.error(`config key ${entry.key}: applying it failed: ${(error as Error).message}`);
      }
    }
  }

  private put(key: ConfigKey, entry: KvWatchEntry): ConfigChange | null | 'malformed' {
    const text = entry.string();
    switch (key.kind) {
      case 'secrets': {
        const record = readValue(text, isSecretsRecord);
        if (!record) return 'malformed';
        this.secrets.set(key.id, record);
        return null;
      }
      case 'health': {
        const health = readValue(text, isEndpointHealth);
        if (!health) return 'malformed';
        this.health.set(key.id, health);
        const endpoint = this.endpoint(key.id);
        return endpoint ? { kind: 'endpoint-upserted', endpoint } : null;
      }
      case 'endpoint': {
        const record = readValue(text, isEndpointRecord);
        if (!record || record.id !== key.id) return 'malformed';
        this.endpoints.set(key.id, record);
        return { kind: 'endpoint-upserted', endpoint: this.view(record) };
      }
      case 'filter': {
        const filter = readValue(text, isFilterRecord);
        if (!filter || filter.id !== key.id) return 'malformed';
        this.filters.set(key.id, filter);
        return { kind: 'filter-upserted', filter };
      }
    }
  }

  private remove(key: ConfigKey): ConfigChange | null {
    switch (key.kind) {
      case 'secrets':
        this.secrets.delete(key.id);
        return null;
      case 'health': {
        this.health.delete(key.id);
        const endpoint = this.endpoint(key.id);
        return endpoint ? { kind: 'endpoint-upserted', endpoint } : null;
      }
      case 'endpoint':
        this.endpoints.delete(key.id);
        return { kind: 'endpoint-removed', endpointId: key.id };
      case 'filter':
        this.filters.delete(key.id);
        return { kind: 'filter-removed', filterId: key.id };
    }
  }
}

type ConfigKey = { kind: 'endpoint' | 'filter' | 'secrets' | 'health'; id: string };

/** The value, if it is JSON of the shape `valid` checks. */
export function readValue<T>(text: string, valid: (value: unknown) => value is T): T | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return valid(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string');
const STATES: readonly unknown[] = Object.values(EndpointState);

function isEndpointRecord(value: unknown): value is EndpointRecord {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    typeof value.name === 'string' &&
    (ENDPOINT_TYPES as readonly unknown[]).includes(value.type) &&
    isMetaOf(value.type as EndpointType, value.meta) &&
    STATES.includes(value.state) &&
    typeof value.version === 'number'
  );
}

function isFilterRecord(value: unknown): value is FilterRecord {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    isStringArray(value.endpointIds) &&
    isStringArray(value.cameraIds) &&
    isStringArray(value.agentIds) &&
    isStringArray(value.profileGroupIds) &&
    isStringArray(value.eventTypes) &&
    typeof value.version === 'number'
  );
}

function isSecretsRecord(value: unknown): value is SecretsRecord {
  return isObject(value) && typeof value.sealed === 'string' && typeof value.version === 'number';
}

function isEndpointHealth(value: unknown): value is EndpointHealth {
  return isObject(value) && STATES.includes(value.state) && typeof value.resumeGeneration === 'number' && typeof value.decidedAt === 'string';
}
