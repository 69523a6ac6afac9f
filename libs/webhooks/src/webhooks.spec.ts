import { describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { generateSecret, signatureHeaders } from './signing.js';
import { isAllowedAddress, parseAllowedNetworks } from './network-guard.js';
import { customHeaderNameProblem } from './custom-headers.js';

describe('Standard Webhooks signatures', () => {
  const body = new TextEncoder().encode('{"type":"identification","event":{"id":"b4c32a55-685e-4055-9716-aeda8c892c84"}}');
  const now = Math.floor(Date.now() / 1_000);

  it('verify with the standardwebhooks package', () => {
    const secret = generateSecret();
    const headers = signatureHeaders([secret], 'b4c32a55-685e-4055-9716-aeda8c892c84', now, body);
    expect(new Webhook(secret).verify(Buffer.from(body).toString(), headers)).toMatchObject({ type: 'identification' });
  });

  it('verify with either secret during a rotation, and not with a third', () => {
    const [previous, current, stranger] = [generateSecret(), generateSecret(), generateSecret()];
    const headers = signatureHeaders([current, previous], 'msg-1', now, body);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [previous, current]) expect(() => new Webhook(secret).verify(Buffer.from(body).toString(), headers)).not.toThrow();
    expect(() => new Webhook(stranger).verify(Buffer.from(body).toString(), headers)).toThrow();
  });
});

describe('the network guard', () => {
  const none = parseAllowedNetworks('');

  it.each(['127.0.0.1', '10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1'])(
    'refuses the internal address %s',
    (address) => expect(isAllowedAddress(address, none)).toBe(false),
  );

  it.each([
    ['NAT64', '64:ff9b::7f00:1'],
    ['local-use NAT64', '64:ff9b:1::a00:5'],
    ['6to4', '2002:7f00:1::'],
    ['Teredo', '2001::1'],
    ['IPv4-compatible', '::7f00:1'],
    ['IPv4-translated', '::ffff:0:7f00:1'],
    ['site-local', 'fec0::1'],
    ['documentation', '2001:db8::1'],
    ['discard', '100::1'],
    ['documentation (IPv4)', '198.51.100.7'],
  ])('refuses the %s address %s, which is not globally routable unicast', (_kind, address) => {
    expect(isAllowedAddress(address, none)).toBe(false);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '2a00:1450:4001:80b::200e'])('allows the public address %s', (address) => {
    expect(isAllowedAddress(address, none)).toBe(true);
  });

  it('allows such a range when WEBHOOK_ALLOWED_NETWORKS lists it', () => {
    const allowed = parseAllowedNetworks('64:ff9b::/96, 2002::/16, fec0::/10');
    for (const address of ['64:ff9b::7f00:1', '2002:7f00:1::', 'fec0::1']) expect([address, isAllowedAddress(address, allowed)]).toEqual([address, true]);
    expect(isAllowedAddress('::7f00:1', allowed)).toBe(false);
  });

  it('allows internal addresses inside WEBHOOK_ALLOWED_NETWORKS only', () => {
    const allowed = parseAllowedNetworks('127.0.0.0/8, 10.0.0.5');
    expect(isAllowedAddress('127.0.0.1', allowed)).toBe(true);
    expect(isAllowedAddress('10.0.0.5', allowed)).toBe(true);
    expect(isAllowedAddress('10.0.0.6', allowed)).toBe(false);
  });

  it('refuses a malformed allow-list', () => {
    expect(() => parseAllowedNetworks('10.0.0.0/33')).toThrow(/prefix/);
    expect(() => parseAllowedNetworks('intranet')).toThrow(/not a CIDR/);
  });
});

describe('custom header names', () => {
  it.each(['Authorization', 'X-Receiver-Token', 'x-api-key', "weird!#$%&'*+.^_`|~"])('accepts %s', (name) => {
    expect(customHeaderNameProblem(name)).toBeNull();
  });

  it.each(['Connection', 'Keep-Alive', 'Upgrade', 'Expect', 'TE', 'Trailer', 'Transfer-Encoding', 'Proxy-Connection', 'Content-Length', 'content-encoding', 'Host', 'Webhook-Signature', 'webhook-id'])(
    'refuses %s, which the dispatcher sets or which belongs to the connection',
    (name) => expect(customHeaderNameProblem(name)).toBe('reserved'),
  );

  it.each(['bad name', 'x:y', '', 'é', 'a'.repeat(101), ':authority'])('refuses %j, no HTTP token', (name) => {
    expect(customHeaderNameProblem(name)).toBe('not-a-token');
  });
});
