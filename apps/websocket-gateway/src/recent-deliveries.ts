/** A websocket delivery kept in memory: its stream sequence, its event's key and its frame. */
export interface RecentDelivery {
  seq: number;
  eventKey: string;
  frame: Uint8Array;
  /** A copy a replay job sent again (Headers.resent): never where a resume starts. */
  resent?: boolean;
}

/**
 * The latest websocket deliveries of the endpoints this replica reads (its
 * clients' endpoints: DeliveryFeed), in memory, within a byte budget (the
 * oldest go first): a client that resumes from an event among them — every
 * client of a draining replica that was up to date, or nearly — is served
 * from here, without a NATS request. An endpoint whose feed closes is
 * forgotten: what memory held of it would have a gap.
 */
export class RecentDeliveries {
  private readonly byEndpoint = new Map<string, Queue<RecentDelivery>>();
  /** Every entry in arrival order (= stream order), for eviction. */
  private readonly order = new Queue<{ endpointId: string; recent: Queue<RecentDelivery>; bytes: number }>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(endpointId: string, eventKey: string, seq: number, frame: Uint8Array, resent = false): void {
    if (this.maxBytes <= 0) return;
    let recent = this.byEndpoint.get(endpointId);
    if (!recent) {
      recent = new Queue();
      this.byEndpoint.set(endpointId, recent);
    }
    recent.push(resent ? { seq, eventKey, frame, resent } : { seq, eventKey, frame });
    const bytes = frame.byteLength + eventKey.length + 64;
    this.order.push({ endpointId, recent, bytes });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes && this.order.length > 0) this.evictOldest();
  }

  /** Whether the endpoint's delivery of this event (its own, not a replayed copy) is still held. */
  has(endpointId: string, eventKey: string): boolean {
    return (this.byEndpoint.get(endpointId)?.lastIndexWhere(isDeliveryOf(eventKey)) ?? -1) >= 0;
  }

  /** The endpoint's deliveries after its delivery of `eventKey`, and that delivery's sequence; null when it is no longer held. */
  after(endpointId: string, eventKey: string): { afterSeq: number; deliveries: RecentDelivery[] } | null {
    const recent = this.byEndpoint.get(endpointId);
    // The event's own delivery (not a replayed copy), as the Resumer finds it in the stream; looked for from the
    // newest, since a client that resumes from memory was nearly up to date. The router stores one per event.
    const index = recent?.lastIndexWhere(isDeliveryOf(eventKey)) ?? -1;
    if (!recent || index < 0) return null;
    return { afterSeq: recent.at(index).seq, deliveries: recent.after(index) };
  }

  /** Forgets the endpoint's deliveries (its feed closed): a resume of it reads the stream. Their bytes are freed as they come up for eviction. */
  forget(endpointId: string): void {
    this.byEndpoint.delete(endpointId);
  }

  private evictOldest(): void {
    const oldest = this.order.shift()!;
    this.bytes -= oldest.bytes;
    oldest.recent.shift();
    if (oldest.recent.length === 0 && this.byEndpoint.get(oldest.endpointId) === oldest.recent) this.byEndpoint.delete(oldest.endpointId);
  }
}

const isDeliveryOf =
  (eventKey: string) =>
  (delivery: RecentDelivery): boolean =>
    delivery.eventKey === eventKey && !delivery.resent;

/**
 * A first-in first-out list whose shift is O(1): `Array.prototype.shift`
 * copies the whole array once it is large, and eviction shifts once per delivery.
 */
class Queue<T> {
  private entries: T[] = [];
  private head = 0;

  get length(): number {
    return this.entries.length - this.head;
  }

  push(entry: T): void {
    this.entries.push(entry);
  }

  shift(): T | undefined {
    if (this.head >= this.entries.length) return undefined;
    const entry = this.entries[this.head];
    this.head += 1;
    // The dead front goes once it is most of the array: amortised O(1).
    if (this.head > 1_024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  /** The position (0: the oldest) of the newest entry `matches` accepts, or -1. */
  lastIndexWhere(matches: (entry: T) => boolean): number {
    for (let index = this.entries.length - 1; index >= this.head; index -= 1) if (matches(this.entries[index]!)) return index - this.head;
    return -1;
  }

  at(position: number): T {
    return this.entries[this.head + position]!;
  }

  /** A copy of the entries after `position`, oldest first. */
  after(position: number): T[] {
    return this.entries.slice(this.head + position + 1);
  }
}
