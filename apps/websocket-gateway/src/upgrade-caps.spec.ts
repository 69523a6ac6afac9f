import { describe, expect, it } from '@jest/globals';
import type { IncomingMessage } from 'node:http';
import { clientAddressOf, CountedSlots } from './upgrade-caps.js';

describe('the gateway’s upgrade caps', () => {
  it('holds at most so many slots per address and in all, and gives each back once', () => {
    const slots = new CountedSlots(2, 3);
    expect([slots.take('a'), slots.take('a'), slots.take('a')]).toEqual([null, null, 'key']);
    expect([slots.take('b'), slots.take('c')]).toEqual([null, 'all']);
    slots.release('a');
    expect(slots.take('c')).toBeNull();
    // A release of an address that holds nothing frees nothing.
    slots.release('unknown');
    expect(slots.take('d')).toBe('all');
  });

  it('has no limit where it is 0', () => {
    const slots = new CountedSlots(0, 0);
    expect(Array.from({ length: 10_000 }, () => slots.take('a')).every((refusal) => refusal === null)).toBe(true);
  });

  it('takes the client’s address from the peer, or from the last value of the header a trusted proxy writes', () => {
    const request = (headers: Record<string, string | string[]>, remoteAddress = '10.0.0.9') => ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;
    expect(clientAddressOf(request({ 'x-forwarded-for': '1.2.3.4' }), '')).toBe('10.0.0.9');
    // A client may send a forged first hop: the proxy appends the address it saw, which is the one taken.
    expect(clientAddressOf(request({ 'x-forwarded-for': '6.6.6.6, 203.0.113.7' }), 'X-Forwarded-For')).toBe('203.0.113.7');
    expect(clientAddressOf(request({}), 'x-forwarded-for')).toBe('10.0.0.9');
  });
});
