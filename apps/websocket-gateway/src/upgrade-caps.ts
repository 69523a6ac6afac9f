import type { IncomingMessage } from 'node:http';

/** Counts held per key (a client address), each up to a limit; 0: no limit. */
export class CountedSlots {
  private readonly held = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly perKey: number,
    private readonly inAll: number,
  ) {}

  /** Why a slot cannot be taken for `key` now ('key' or 'all'), or null when it was taken. */
  take(key: string): 'key' | 'all' | null {
    if (this.inAll > 0 && this.total >= this.inAll) return 'all';
    const count = this.held.get(key) ?? 0;
    if (this.perKey > 0 && count >= this.perKey) return 'key';
    this.held.set(key, count + 1);
    this.total += 1;
    return null;
  }

  release(key: string): void {
    const count = this.held.get(key) ?? 0;
    if (count <= 1) this.held.delete(key);
    else this.held.set(key, count - 1);
    if (count > 0) this.total -= 1;
  }
}

/**
 * The client's address: the socket's peer, or, behind a proxy that names
 * it (`header`, e.g. `x-forwarded-for`, as the k8s ingress sets), the last
 * address in that header (the one the nearest proxy wrote, which a client
 * cannot choose).
 */
export function clientAddressOf(request: IncomingMessage, header: string): string {
  const named = header ? request.headers[header.toLowerCase()] : undefined;
  const value = Array.isArray(named) ? named[named.length - 1] : named;
  const last = value?.split(',').pop()?.trim();
  return last || request.socket.remoteAddress || 'unknown';
}
