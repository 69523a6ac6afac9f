import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AgentEvent } from './event.schema.js';

/** Path under the public origin at which the api serves an event image. */
export const IMAGE_PATH = '/event-service/get-image';

/** How links are signed: the key (IMAGE_LINK_KEY) and when a link stops working (unix seconds). */
export interface LinkSigning {
  key: Buffer;
  expiresAt: number;
}

const signatureOf = (key: Buffer, imageId: string, expiresAt: number): Buffer =>
  createHmac('sha256', key).update(`${imageId.toLowerCase()}\n${expiresAt}`).digest().subarray(0, 16);

/** `…/get-image/<id>`, and with `signing`, `?expires=<unix s>&signature=<HMAC>`: a link a browser can follow until it expires. */
export function imageLink(publicBaseUrl: string, imageId: string, signing?: LinkSigning): string {
  const link = `${publicBaseUrl}${IMAGE_PATH}/${encodeURIComponent(imageId)}`;
  if (!signing) return link;
  return `${link}?expires=${signing.expiresAt}&signature=${signatureOf(signing.key, imageId, signing.expiresAt).toString('base64url')}`;
}

/** True when `signature` is the key's for this image and expiry, and `now` (unix seconds) is before it. */
export function verifyImageLink(key: Buffer, imageId: string, expires: unknown, signature: unknown, now: number): boolean {
  // One spelling of a signature only: 16 bytes in base64url, unpadded.
  if (typeof expires !== 'string' || typeof signature !== 'string' || !/^\d{1,12}$/.test(expires) || !/^[A-Za-z0-9_-]{22}$/.test(signature)) return false;
  const expiresAt = Number(expires);
  if (expiresAt <= now) return false;
  const given = Buffer.from(signature, 'base64url');
  const expected = signatureOf(key, imageId, expiresAt);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Fills `image_link` / `original_image_link` that the agent did not send
 * (absent or null) from the image ids; links the agent sent are kept as they are.
 * Returns true when the event was changed.
 */
export function fillImageLinks(event: AgentEvent, publicBaseUrl: string, signing?: LinkSigning): boolean {
  const details = event.event;
  let changed = false;
  if (details.image_link == null && details.image != null) {
    details.image_link = imageLink(publicBaseUrl, details.image, signing);
    changed = true;
  }
  if (details.original_image_link == null && details.original_image != null) {
    details.original_image_link = imageLink(publicBaseUrl, details.original_image, signing);
    changed = true;
  }
  return changed;
}
