import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SecretBox } from './secret-box.js';

describe('SecretBox: webhook secrets sealed for PostgreSQL and the config bucket', () => {
  const box1 = () => new SecretBox([{ id: 'k1', key: randomBytes(32) }]);
  const secrets = { current: 'whsec_abc', previous: null, previousExpiresAt: null, customHeaders: { authorization: 'Bearer receiver-token' } };

  it('opens what it sealed, and the sealed text shows nothing of the secrets', () => {
    const box = box1();
    const sealed = box.seal(secrets, 'secrets.a');
    expect(sealed).not.toContain('whsec');
    expect(sealed).not.toContain('receiver-token');
    expect(box.open(sealed, 'secrets.a')).toEqual(secrets);
  });

  it('seals the same value the same way (the reconcile compares without rewriting), and different values differently', () => {
    const box = box1();
    expect(box.seal(secrets, 'secrets.a')).toBe(box.seal(secrets, 'secrets.a'));
    expect(box.seal(secrets, 'secrets.a')).not.toBe(box.seal({ ...secrets, current: 'whsec_def' }, 'secrets.a'));
  });

  it('refuses another key, another endpoint (a value copied under another key), and a changed text', () => {
    const key = randomBytes(32);
    const sealed = new SecretBox([{ id: 'k1', key }]).seal(secrets, 'secrets.a');
    expect(() => new SecretBox([{ id: 'k1', key: randomBytes(32) }]).open(sealed, 'secrets.a')).toThrow();
    expect(() => new SecretBox([{ id: 'k1', key }]).open(sealed, 'secrets.b')).toThrow();
    const parts = sealed.split('.');
    parts[4] = Buffer.from(Buffer.from(parts[4]!, 'base64url').map((byte, index) => (index === 0 ? byte ^ 1 : byte))).toString('base64url');
    expect(() => new SecretBox([{ id: 'k1', key }]).open(parts.join('.'), 'secrets.a')).toThrow();
  });

  it('refuses a text whose tag is cut short, though what is left of it is right (GCM would check only that much)', () => {
    const box = box1();
    const parts = box.seal(secrets, 'secrets.a').split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const cut = [...parts.slice(0, 3), Buffer.from(parts[3]!, 'base64url').subarray(0, bytes).toString('base64url'), parts[4]].join('.');
      expect(() => box.open(cut, 'secrets.a')).toThrow('not a sealed value');
    }
    expect(box.open(parts.join('.'), 'secrets.a')).toEqual(secrets);
  });

  it('names its key: a new first key seals, an older listed key still opens, a key no longer listed does not', () => {
    const [k1, k2] = [{ id: 'k1', key: randomBytes(32) }, { id: 'k2', key: randomBytes(32) }];
    const old = new SecretBox([k1]).seal(secrets, 'secrets.a');
    const rotated = new SecretBox([k2, k1]);
    expect(rotated.open(old, 'secrets.a')).toEqual(secrets);
    expect(rotated.sealsWithCurrentKey(old)).toBe(false);
    const resealed = rotated.seal(secrets, 'secrets.a');
    expect(resealed.startsWith('v2.k2.')).toBe(true);
    expect(rotated.sealsWithCurrentKey(resealed)).toBe(true);
    expect(() => new SecretBox([k2]).open(old, 'secrets.a')).toThrow(/k1/);
  });
});
