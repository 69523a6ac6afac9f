import { Kvm, type KV } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import { retryWhileTransient } from '@app/runtime';
import type { NatsClient } from './nats-connection.js';
import { isWrongLastSequence } from './publisher.js';
import { replicasOf, warnWhenReplicasDiffer } from './replicas.js';

/** How long a lease lasts without a renewal, unless the holder says otherwise. */
export const DEFAULT_LEASE_TTL_MS = 10_000;

/** What a lease's entry holds: who holds it, for people reading the bucket. */
interface LeaseValue {
  holder: string;
  renewedAt: string;
}

/**
 * Leases on named work (a replay job; later, a partition), held by one
 * process at a time, in a KV bucket (`<p>_leases`). No clocks are compared
 * between processes: the holder renews its entry (a new revision) every
 * third of the TTL, and another process takes the lease only once it has
 * seen the same revision for a whole TTL on its own clock, by a write
 * conditional on that revision (so of two challengers one wins). The holder
 * gives the lease up by itself once two thirds of the TTL passed since its
 * last renewal: it stops before anyone may take over, a third of the TTL
 * early, unless the process stood still for longer than that (a pause of
 * the whole process is the one case two holders overlap; work done under a
 * lease must be safe to do twice, as everything on the data path is).
 */
export class Leases {
  /** The revision of each lease held by others, and when this process first saw it. */
  private readonly seen = new Map<string, { revision: number; since: number }>();

  private constructor(
    private readonly bucket: KV,
    /** Who this process is, written into the leases it holds (host and pid). */
    readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  /** Opens (creating if needed) the leases bucket. */
  static async open(client: NatsClient, holder: string, ttlMs = DEFAULT_LEASE_TTL_MS): Promise<Leases> {
    return new Leases(await openLeasesBucket(client), holder, ttlMs);
  }

  /** Leases in a bucket opened already (openLeasesBucket). */
  static over(bucket: KV, holder: string, ttlMs = DEFAULT_LEASE_TTL_MS): Leases {
    return new Leases(bucket, holder, ttlMs);
  }

  /**
   * Takes the lease `name` when nobody holds it or its holder has not
   * renewed it for a whole TTL (as seen from here); null otherwise. Call it
   * again later to see whether an abandoned lease can be taken.
   */
  async tryAcquire(name: string): Promise<Lease | null> {
    const entry = await this.bucket.get(name);
    const now = Date.now();
    let revision: number;
    let sentAt: number;
    try {
      if (!entry || entry.operation !== 'PUT') {
        sentAt = Date.now();
        revision = await this.bucket.create(name, this.value());
      } else {
        const seen = this.seen.get(name);
        if (!seen || seen.revision !== entry.revision) {
          this.seen.set(name, { revision: entry.revision, since: now });
          return null;
        }
        if (now - seen.since < this.ttlMs) return null;
        sentAt = Date.now();
        revision = await this.bucket.update(name, this.value(), entry.revision);
      }
    } catch {
      // Another process was first (or the bucket is away): not ours this time.
      return null;
    }
    this.seen.delete(name);
    return new Lease(name, this.bucket, revision, this.ttlMs, () => this.value(), sentAt);
  }

  /**
   * Told of a change of the lease `name` as a watch of the bucket saw it
   * (revision null: deleted): starts this process's count of how long its
   * revision stands still then, so that a later tryAcquire may take an
   * abandoned lease a whole TTL after it was last renewed, rather than a
   * TTL after this process first wanted it.
   */
  saw(name: string, revision: number | null): void {
    if (revision === null) this.seen.delete(name);
    else if (this.seen.get(name)?.revision !== revision) this.seen.set(name, { revision, since: Date.now() });
  }

  /** Forgets what was seen of every lease but these (the work still wanted): the rest is over. */
  retain(names: Iterable<string>): void {
    const wanted = new Set(names);
    for (const name of this.seen.keys()) if (!wanted.has(name)) this.seen.delete(name);
  }

  private value(): string {
    return JSON.stringify({ holder: this.holder, renewedAt: new Date().toISOString() } satisfies LeaseValue);
  }
}

/** Opens (creating if needed) the leases bucket, `<p>_leases`. */
export function openLeasesBucket(client: NatsClient): Promise<KV> {
  const replicas = replicasOf(client.settings);
  return retryWhileTransient('leases bucket set-up', async () => {
    const opened = await new Kvm(client.connection).create(client.topology.leasesBucket, { history: 1, storage: StorageType.File, replicas });
    const status = await opened.status();
    warnWhenReplicasDiffer(status.streamInfo.config.name, status.replicas, replicas);
    return opened;
  });
}

/** A lease held by this process until it is released or lost (`signal` aborts then). */
export class Lease {
  private readonly controller = new AbortController();
  private readonly renewals: NodeJS.Timeout;
  /** Ends the lease two thirds of a TTL after the last renewal was sent, unless another renewal lands first. */
  private expiry: NodeJS.Timeout | null = null;
  private renewing = false;

  constructor(
    readonly name: string,
    private readonly bucket: KV,
    private revision: number,
    private readonly ttlMs: number,
    private readonly value: () => string,
    /** When the write that took the lease was sent. */
    sentAt: number,
  ) {
    this.renewals = setInterval(() => void this.renew(), Math.max(50, Math.floor(ttlMs / 3)));
    this.renewals.unref();
    this.extend(sentAt);
  }

  /** Aborted once the lease is lost (another process took it, or it could not be renewed in time) or released. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Still held: renewed within two thirds of the TTL, and not released. */
  get held(): boolean {
    return !this.controller.signal.aborted;
  }

  /** Gives the lease up: another process may take it at once. */
  async release(): Promise<void> {
    const wasHeld = this.held;
    this.lose('released');
    if (wasHeld) await this.bucket.delete(this.name, { previousSeq: this.revision }).catch(() => undefined);
  }

  private async renew(): Promise<void> {
    if (!this.held || this.renewing) return;
    this.renewing = true;
    // Counted from when the write was sent, not answered: another process counts from when it saw the revision.
    const sentAt = Date.now();
    try {
      this.revision = await this.bucket.update(this.name, this.value(), this.revision);
      if (this.held) this.extend(sentAt);
    } catch (error) {
      // Taken by another (the revision moved on): lost. Anything else is retried at the next tick, while time allows.
      if (isWrongLastSequence(error)) this.lose('taken by another process');
    } finally {
      this.renewing = false;
    }
  }

  /** The lease lasts until two thirds of a TTL after `sentAt`: it ends by itself a third of a TTL before another may take it. */
  private extend(sentAt: number): void {
    if (this.expiry) clearTimeout(this.expiry);
    this.expiry = setTimeout(() => this.lose('not renewed in time'), Math.max(0, sentAt + (this.ttlMs * 2) / 3 - Date.now()));
    this.expiry.unref();
  }

  private lose(reason: string): void {
    if (this.controller.signal.aborted) return;
    clearInterval(this.renewals);
    if (this.expiry) clearTimeout(this.expiry);
    this.controller.abort(new Error(`lease ${this.name}: ${reason}`));
  }
}
