import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { imageLink, verifyImageLink } from './image-links.js';

describe('signed image links', () => {
  const key = randomBytes(32);
  const id = randomUUID();
  const now = 1_800_000_000;
  const parts = (link: string) => {
    const url = new URL(link);
    return { expires: url.searchParams.get('expires')!, signature: url.searchParams.get('signature')! };
  };

  it('accepts its own link until it expires, for the id in any case', () => {
    const { expires, signature } = parts(imageLink('https://events.example', id, { key, expiresAt: now + 60 }));
    expect(verifyImageLink(key, id, expires, signature, now)).toBe(true);
    expect(verifyImageLink(key, id.toUpperCase(), expires, signature, now)).toBe(true);
    expect(verifyImageLink(key, id, expires, signature, now + 60)).toBe(false);
  });

  it('refuses another image, another expiry, another key, and another spelling of the signature', () => {
    const { expires, signature } = parts(imageLink('https://events.example', id, { key, expiresAt: now + 60 }));
    expect(verifyImageLink(key, randomUUID(), expires, signature, now)).toBe(false);
    expect(verifyImageLink(key, id, String(now + 3_600), signature, now)).toBe(false);
    expect(verifyImageLink(randomBytes(32), id, expires, signature, now)).toBe(false);
    expect(verifyImageLink(key, id, expires, `${signature}=`, now)).toBe(false);
    expect(verifyImageLink(key, id, expires, undefined, now)).toBe(false);
    expect(verifyImageLink(key, id, ['1', '2'], signature, now)).toBe(false);
  });

  it('leaves an unsigned link as OMNI writes it', () => {
    expect(imageLink('https://events.example', id)).toBe(`https://events.example/event-service/get-image/${id}`);
  });
});
