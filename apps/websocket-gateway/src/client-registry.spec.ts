import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { WebSocket } from 'ws';
import { ClientRegistry } from './client-registry.js';
import { RecentDeliveries } from './recent-deliveries.js';

/** A socket that records what it is sent. */
class FakeSocket extends EventEmitter {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  send(data: Uint8Array): void {
    this.sent.push(Buffer.from(data).toString());
  }
  close(): void {
    this.readyState = WebSocket.CLOSED;
    this.emit('close');
  }
}

const frame = (text: string) => Buffer.from(text);

describe('ClientRegistry: the seam between a resumed history and the live feed', () => {
  it('holds live frames while a client catches up, then sends those after its history, once each, in order', () => {
    const registry = new ClientRegistry(1_000_000);
    const socket = new FakeSocket();
    registry.addCatchingUp('e', socket as unknown as WebSocket);
    registry.broadcast('e', frame('10'), 10);
    registry.broadcast('e', frame('11'), 11);
    // History reached sequence 10 (it had 10 itself): 11 comes from what was held.
    socket.sent.push('history up to 10');
    expect(registry.goLive(socket as unknown as WebSocket, 10)).toBe(true);
    registry.broadcast('e', frame('11'), 11);
    registry.broadcast('e', frame('12'), 12);
    expect(socket.sent).toEqual(['history up to 10', '11', '12']);
  });

  it('skips live frames the history already sent when the feed is behind', () => {
    const registry = new ClientRegistry(1_000_000);
    const socket = new FakeSocket();
    registry.addCatchingUp('e', socket as unknown as WebSocket);
    expect(registry.goLive(socket as unknown as WebSocket, 20)).toBe(true);
    for (const seq of [18, 19, 20, 21]) registry.broadcast('e', frame(String(seq)), seq);
    expect(socket.sent).toEqual(['21']);
  });

  it('drops held frames past half the client backlog limit and says the history must be read on', () => {
    const registry = new ClientRegistry(100);
    const socket = new FakeSocket();
    registry.addCatchingUp('e', socket as unknown as WebSocket);
    for (let seq = 1; seq <= 10; seq += 1) registry.broadcast('e', frame('x'.repeat(20)), seq);
    expect(registry.goLive(socket as unknown as WebSocket, 0)).toBe(false);
    // Read on: history now has everything up to 10; what arrives after is held again and then sent.
    registry.broadcast('e', frame('11'), 11);
    expect(registry.goLive(socket as unknown as WebSocket, 10)).toBe(true);
    expect(socket.sent).toEqual(['11']);
  });
});

describe('RecentDeliveries', () => {
  it('finds the deliveries after an event (its own delivery, never a replayed copy), and forgets the oldest past its budget', () => {
    const recent = new RecentDeliveries(10_000);
    recent.add('e', 'a', 1, frame('a'));
    recent.add('e', 'b', 2, frame('b'));
    recent.add('e', 'a', 3, frame('a again'), true);
    recent.add('e', 'c', 4, frame('c'));
    // After the event's own delivery: the copy a replay sent later is part of what follows, not the position.
    expect(recent.after('e', 'a')).toEqual({
      afterSeq: 1,
      deliveries: [
        { seq: 2, eventKey: 'b', frame: frame('b') },
        { seq: 3, eventKey: 'a', frame: frame('a again'), resent: true },
        { seq: 4, eventKey: 'c', frame: frame('c') },
      ],
    });
    // Only a copy held (the delivery itself forgotten): not a position; the stream decides.
    const copyOnly = new RecentDeliveries(10_000);
    copyOnly.add('e', 'a', 7, frame('a again'), true);
    expect(copyOnly.has('e', 'a')).toBe(false);
    expect(copyOnly.after('e', 'a')).toBeNull();
    expect(recent.after('e', 'z')).toBeNull();
    expect(recent.after('other', 'a')).toBeNull();

    const small = new RecentDeliveries(200);
    for (let seq = 1; seq <= 10; seq += 1) small.add('e', `k${seq}`, seq, frame('y'.repeat(30)));
    expect(small.has('e', 'k1')).toBe(false);
    expect(small.has('e', 'k10')).toBe(true);
  });

  it('keeps the newest within its budget through many evictions, across endpoints', () => {
    const recent = new RecentDeliveries(100 * 100);
    for (let seq = 1; seq <= 5_000; seq += 1) recent.add(seq % 2 === 0 ? 'even' : 'odd', `k${seq}`, seq, frame('z'.repeat(30)));
    expect(recent.has('even', 'k4000')).toBe(false);
    expect(recent.after('even', 'k4990')).toEqual({ afterSeq: 4_990, deliveries: [4_992, 4_994, 4_996, 4_998, 5_000].map((seq) => ({ seq, eventKey: `k${seq}`, frame: frame('z'.repeat(30)) })) });
    expect(recent.after('odd', 'k4999')).toEqual({ afterSeq: 4_999, deliveries: [] });
  });
});
