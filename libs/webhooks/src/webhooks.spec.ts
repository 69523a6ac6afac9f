import { describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';
import { generateSecret, signatureHeaders } from './signing.js';
import { isAllowedAddress, parseAllowedNetworks } from './network-guard.js';

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

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111'])('allows the public address %s', (address) => {
    expect(isAllowedAddress(address, none)).toBe(true);
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
