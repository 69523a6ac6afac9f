import { createHash, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import type { KV, KvEntry } from '@nats-io/kv';
import { backoffMs, retryWhileTransient } from '@app/runtime';
import type { Principal } from '@app/domain';
import { ConfigKeys, TOKEN_SCOPES, TokenScope, type ConnectionTokenRecord, type TokenRecord } from './config-records.js';
import { AppliedRevision } from './applied-revision.js';
import { isObject, isStringArray, readValue } from './config-view.js';

/** The SHA-256 of a token, hex: what PostgreSQL and the config bucket hold instead of it. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The `tokenId` of a principal whose token is configured (API_TOKEN, AGENT_TOKENS) rather than named. */
const CONFIGURED_TOKEN_ID = 'bootstrap';

/** The id of the named API token a principal presented; null for a configured token (which no revocation ends). */
export function namedTokenIdOf(principal: Principal): string | null {
  return principal.tokenId === CONFIGURED_TOKEN_ID ? null : principal.tokenId;
}

/**
 * How long the watch may leave the bucket's newest change unapplied before it
 * is taken for hung (its consumer gone without the watch ending), checked
 * every second: within the revocation's rounds of asking (about 6 s, the
 * api's ConfigSync), so a replica that may still accept a revoked token has
 * stopped being ready by the time the revocation is answered as not
 * confirmed. A live watch applies a change in milliseconds.
 */
const STALL_MS = 4_000;
const STALL_CHECK_MS = 1_000;

/**
 * The named API tokens that are not revoked and the websocket endpoints' own
 * connection tokens, as the api publishes them to the tokens bucket
 * (`tokens.<id>`, `connections.<endpoint id>`: hashes only): the api, ingest
 * and the gateway check tokens here, without PostgreSQL, and no other app
 * reads them. Loads every token at start, then applies each change;
 * a watch that ends (NATS restarted), or that has applied nothing of a change
 * the bucket holds for `stallMs` (hung), is opened again and every token read
 * afresh, and `healthy` is false meanwhile.
 */
export class TokenView {
  private readonly logger = new Logger(TokenView.name);
  private readonly byHash = new Map<string, TokenRecord>();
  private readonly byId = new Map<string, TokenRecord>();
  private readonly applied = new AppliedRevision();
  private watching = false;
  private resuming = false;
  private currentWatch: symbol | null = null;
  private stopped = false;
  private stopWatch: (() => void) | null = null;
  private readonly revokedListeners: Array<(tokenId: string) => void> = [];
  private readonly connections = new Map<string, ConnectionTokenRecord>();
  private readonly rotatedListeners: Array<(endpointId: string) => void> = [];
  private stallTimer: NodeJS.Timeout | null = null;
  /** The bucket's newest revision when the watch was first seen behind it, and when. */
  private behind: { revision: number; since: number } | null = null;
  private restartCount = 0;

  constructor(
    private readonly bucket: KV,
    private readonly stall = { afterMs: STALL_MS, checkMs: STALL_CHECK_MS },
  ) {}

  async start(): Promise<void> {
    await retryWhileTransient('token watch', () => this.watch());
    this.stallTimer = setInterval(() => void this.checkStall().catch((error: Error) => this.logger.debug(`cannot check the token watch against the bucket: ${error.message}`)), this.stall.checkMs);
    this.stallTimer.unref();
  }

  /** How many times a watch was taken for hung and opened again. */
  get restarts(): number {
    return this.restartCount;
  }

  stop(): void {
    this.stopped = true;
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.stopWatch?.();
    this.applied.release();
  }

  get healthy(): boolean {
    return this.watching;
  }

  /** The newest bucket revision of a token change applied here. */
  get revision(): number {
    return this.applied.value;
  }

  /** Called with a token's id when it is revoked (its record goes): holders of connections it admitted close them. */
  onRevoked(listener: (tokenId: string) => void): void {
    this.revokedListeners.push(listener);
  }

  /** Called with a websocket endpoint's id when its own connection token changes or goes. */
  onConnectionTokenChanged(listener: (endpointId: string) => void): void {
    this.rotatedListeners.push(listener);
  }

  /** The SHA-256 of a websocket endpoint's own connection token, if it has one. */
  connectionTokenHash(endpointId: string): string | undefined {
    return this.connections.get(endpointId)?.hash;
  }

  /** The named token with this hash, if it is not revoked. */
  find(hash: string): TokenRecord | undefined {
    return this.byHash.get(hash);
  }

  /** The version of every token published (the api's reconcile compares them with PostgreSQL's). */
  *publishedVersions(): IterableIterator<[key: string, version: number]> {
    for (const [id, record] of this.byId) yield [ConfigKeys.token(id), record.version];
    for (const [id, record] of this.connections) yield [ConfigKeys.connectionToken(id), record.version];
  }

  /** True once a token change at `revision` (or later) is applied here, false if `timeoutMs` passes first. */
  async reached(revision: number, timeoutMs: number): Promise<boolean> {
    return this.applied.reached(revision, timeoutMs);
  }

  /**
   * Reads every token, then watches for changes from the bucket revision
   * read before it: a change made while the tokens were read comes again
   * through the watch, which applies changes in order. The applied revision
   * moves with the watch alone (a token read may be newer than a change the
   * watch has yet to replay), so `reached` never answers early.
   */
  private async watch(): Promise<void> {
    const from = (await this.bucket.status()).streamInfo.state.last_seq;
    const loaded: KvEntry[] = [];
    for await (const key of await this.bucket.keys()) {
      const entry = await this.bucket.get(key);
      if (entry) loaded.push(entry);
    }
    const watch = await this.bucket.watch({ key: '>', resumeFromRevision: from + 1 });
    const current = Symbol('watch');
    this.currentWatch = current;
    this.stopWatch = () => watch.stop();
    // What a revocation or rotation missed while no watch applied it is told now, as the watch would have.
    const known = new Set(this.byId.keys());
    const ownHashes = new Map([...this.connections].map(([endpointId, record]) => [endpointId, record.hash]));
    this.byHash.clear();
    this.byId.clear();
    this.connections.clear();
    for (const entry of loaded) this.applyToken(entry);
    for (const tokenId of known) if (!this.byId.has(tokenId)) for (const listener of this.revokedListeners) listener(tokenId);
    for (const [endpointId, hash] of ownHashes) if (this.connections.get(endpointId)?.hash !== hash) for (const listener of this.rotatedListeners) listener(endpointId);
    this.applied.advance(from);
    this.watching = true;
    void (async () => {
      for await (const entry of watch) {
        // A dropped watch may still yield what it had queued: only the latest speaks for the view.
        if (this.currentWatch !== current) break;
        this.applyToken(entry);
        this.applied.advance(entry.revision);
      }
    })()
      .catch((error: unknown) => this.logger.error(`token watch failed: ${(error as Error).message}`))
      .finally(() => {
        // Only the latest watch speaks for the view.
        if (this.currentWatch !== current) return;
        this.watching = false;
        if (!this.stopped) void this.resume();
      });
  }

  /**
   * A watch whose consumer is gone (deleted, or lost by the server) may
   * neither deliver nor end: behind the bucket's newest revision for
   * `stall.afterMs`, it is dropped, the view reports unhealthy (not ready),
   * and every token is read again. A failure to ask the bucket is NATS being
   * away, which the connection's own health reports.
   */
  private async checkStall(): Promise<void> {
    if (!this.watching || this.stopped) return;
    const newest = (await this.bucket.status()).streamInfo.state.last_seq;
    const now = Date.now();
    if (this.applied.value >= newest) {
      this.behind = null;
      return;
    }
    if (!this.behind || this.applied.value >= this.behind.revision) {
      this.behind = { revision: newest, since: now };
      return;
    }
    if (now - this.behind.since < this.stall.afterMs || !this.watching) return;
    this.logger.error(`token watch applied nothing up to revision ${this.behind.revision} for ${now - this.behind.since} ms (at ${this.applied.value}): taken for hung; reading the tokens again`);
    this.behind = null;
    this.restartCount += 1;
    this.watching = false;
    this.currentWatch = null;
    this.stopWatch?.();
    void this.resume();
  }

  private async resume(): Promise<void> {
    if (this.resuming) return;
    this.resuming = true;
    this.logger.warn(`token watch stopped at revision ${this.applied.value}; reading the tokens again`);
    try {
      for (let failures = 1; !this.stopped && !this.watching; failures += 1) {
        await sleep(backoffMs(failures, 200, 5_000));
        if (this.stopped) return;
        await this.watch().catch((error: Error) => this.logger.warn(`cannot resume the token watch: ${error.message}`));
      }
    } finally {
      this.resuming = false;
    }
  }


  private applyToken(entry: KvEntry): void {
    const key = ConfigKeys.parse(entry.key);
    if (key?.kind === 'connection-token') return this.applyConnectionToken(key.id, entry);
    if (key?.kind !== 'token') return;
    const previous = this.byId.get(key.id);
    if (previous) this.byHash.delete(previous.hash);
    this.byId.delete(key.id);
    if (entry.operation !== 'PUT') {
      if (previous) for (const listener of this.revokedListeners) listener(key.id);
      return;
    }
    const record = readValue(entry.string(), isTokenRecord);
    if (record && record.id === key.id) {
      this.byId.set(key.id, record);
      this.byHash.set(record.hash, record);
    } else {
      // Refused, never guessed: a token whose record cannot be read does not authenticate.
      this.logger.error(`config key ${entry.key} (revision ${entry.revision}) is not a valid token record; skipped`);
    }
  }

  private applyConnectionToken(endpointId: string, entry: KvEntry): void {
    const previous = this.connections.get(endpointId);
    this.connections.delete(endpointId);
    if (entry.operation === 'PUT') {
      const record = readValue(entry.string(), isConnectionTokenRecord);
      if (record && record.endpointId === endpointId) this.connections.set(endpointId, record);
      else this.logger.error(`config key ${entry.key} (revision ${entry.revision}) is not a valid connection token record; skipped`);
    }
    // A rotated or removed token closes the connections it admitted.
    if (previous && this.connections.get(endpointId)?.hash !== previous.hash) for (const listener of this.rotatedListeners) listener(endpointId);
  }
}

function isConnectionTokenRecord(value: unknown): value is ConnectionTokenRecord {
  return isObject(value) && typeof value.endpointId === 'string' && typeof value.hash === 'string' && typeof value.version === 'number';
}

function isTokenRecord(value: unknown): value is TokenRecord {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    typeof value.hash === 'string' &&
    (TOKEN_SCOPES as readonly unknown[]).includes(value.scope) &&
    isStringArray(value.agentIds) &&
    (value.endpointIds === undefined || value.endpointIds === null || isStringArray(value.endpointIds)) &&
    typeof value.version === 'number'
  );
}

/**
 * The tokens a surface accepts: the ones from the environment (API_TOKEN an
 * admin, AGENT_TOKENS each bound to its agents), compared in constant time, and the
 * named tokens of the TokenView.
 */
export class AccessTokens {
  private readonly fixed: Array<{ digest: Buffer; principal: Principal }>;

  constructor(
    private readonly view: TokenView,
    fixed: ReadonlyArray<{ token: string; scope: TokenScope; agentIds?: string[] }>,
  ) {
    this.fixed = fixed
      .filter(({ token }) => token.length > 0)
      .map(({ token, scope, agentIds = [] }) => ({ digest: Buffer.from(hashToken(token), 'hex'), principal: { tokenId: CONFIGURED_TOKEN_ID, scope, agentIds, endpointIds: null } }));
  }

  /** The principal of a token, or null for one that is unknown or revoked. */
  resolve(token: string | null): Principal | null {
    if (token === null || token.length === 0) return null;
    const hash = hashToken(token);
    const digest = Buffer.from(hash, 'hex');
    let found: Principal | null = null;
    for (const known of this.fixed) {
      if (timingSafeEqual(digest, known.digest)) found ??= known.principal;
    }
    if (found) return found;
    const record = this.view.find(hash);
    return record ? { tokenId: record.id, scope: record.scope, agentIds: record.agentIds, endpointIds: record.endpointIds ?? null } : null;
  }
}
