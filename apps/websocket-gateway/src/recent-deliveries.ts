/** A websocket delivery kept in memory: its stream sequence, its event's key and its frame. */
export interface RecentDelivery {
  seq: number;
  eventKey: string;
  frame: Uint8Array;
}

/**
 * The latest websocket deliveries of every endpoint, in memory, within a
 * byte budget (the oldest go first): a client that resumes from an event
 * among them — every client of a draining replica that was up to date, or
 * nearly — is served from here, without a NATS request. Every replica holds
 * every endpoint's, as it sees every delivery.
 */
export class RecentDeliveries {
  private readonly byEndpoint = new Map<string, RecentDelivery[]>();
  /** Every entry in arrival order (= stream order), for eviction; `head` is the oldest still kept. */
  private readonly order: Array<{ endpointId: string; bytes: number }> = [];
  private head = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  add(endpointId: string, eventKey: string, seq: number, frame: Uint8Array): void {
    if (this.maxBytes <= 0) return;
    let recent = this.byEndpoint.get(endpointId);
    if (!recent) {
      recent = [];
      this.byEndpoint.set(endpointId, recent);
    }
    recent.push({ seq, eventKey, frame });
    const bytes = frame.byteLength + eventKey.length + 64;
    this.order.push({ endpointId, bytes });
    this.bytes += bytes;
    while (this.bytes > this.maxBytes && this.head < this.order.length) this.evictOldest();
    if (this.head > 4_096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Whether the endpoint's delivery of this event is still held. */
  has(endpointId: string, eventKey: string): boolean {
    return this.byEndpoint.get(endpointId)?.some((delivery) => delivery.eventKey === eventKey) ?? false;
  }

  /** The endpoint's deliveries after its delivery of `eventKey`, and that delivery's sequence; null when it is no longer held. */
  after(endpointId: string, eventKey: string): { afterSeq: number; deliveries: RecentDelivery[] } | null {
    const recent = this.byEndpoint.get(endpointId);
    // The latest delivery of the event, as the stream's last-by-subject finds it.
    const index = recent?.findLastIndex((delivery) => delivery.eventKey === eventKey) ?? -1;
    if (!recent || index < 0) return null;
    return { afterSeq: recent[index]!.seq, deliveries: recent.slice(index + 1) };
  }

  private evictOldest(): void {
    const oldest = this.order[this.head]!;
    this.head += 1;
    this.bytes -= oldest.bytes;
    const recent = this.byEndpoint.get(oldest.endpointId);
    recent?.shift();
    if (recent?.length === 0) this.byEndpoint.delete(oldest.endpointId);
  }
}
