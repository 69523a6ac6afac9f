import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SecretBox } from './secret-box.js';

describe('SecretBox: webhook secrets sealed for the config bucket', () => {
  const secrets = { current: 'whsec_abc', previous: null, previousExpiresAt: null, customHeaders: { authorization: 'Bearer receiver-token' } };

  it('opens what it sealed, and the sealed text shows nothing of the secrets', () => {
    const box = new SecretBox(randomBytes(32));
    const sealed = box.seal(secrets, 'secrets.a');
    expect(sealed).not.toContain('whsec');
    expect(sealed).not.toContain('receiver-token');
    expect(box.open(sealed, 'secrets.a')).toEqual(secrets);
  });

  it('seals the same value the same way (the reconcile compares without rewriting), and different values differently', () => {
    const box = new SecretBox(randomBytes(32));
    expect(box.seal(secrets, 'secrets.a')).toBe(box.seal(secrets, 'secrets.a'));
    expect(box.seal(secrets, 'secrets.a')).not.toBe(box.seal({ ...secrets, current: 'whsec_def' }, 'secrets.a'));
  });

  it('refuses another key, another endpoint (a value copied under another key), and a changed text', () => {
    const key = randomBytes(32);
    const sealed = new SecretBox(key).seal(secrets, 'secrets.a');
    expect(() => new SecretBox(randomBytes(32)).open(sealed, 'secrets.a')).toThrow();
    expect(() => new SecretBox(key).open(sealed, 'secrets.b')).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from(Buffer.from(parts[3]!, 'base64url').map((byte, index) => (index === 0 ? byte ^ 1 : byte))).toString('base64url');
    expect(() => new SecretBox(key).open(parts.join('.'), 'secrets.a')).toThrow();
  });
});
