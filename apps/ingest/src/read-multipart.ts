import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { IMAGE_CONTENT_TYPES, type EventRejection } from '@app/events';
import type { Attachment, Slot } from './event-images.store.js';

export type MultipartEvent = { ok: true; event: Buffer; files: Attachment[] } | { ok: false; rejection: EventRejection };

const SLOTS: readonly string[] = ['image', 'original_image'];

/**
 * Reads `multipart/form-data`: a field `event` (the event JSON) and files
 * `image` and `original_image` (JPEG, PNG or WebP), each within its limit.
 */
export function readMultipart(request: IncomingMessage, limits: { eventBytes: number; imageBytes: number }): Promise<MultipartEvent> {
  return new Promise((resolve) => {
    let event: Buffer | null = null;
    const files: Attachment[] = [];
    let rejection: EventRejection | null = null;
    const refuse = (value: EventRejection) => (rejection ??= value);
    const parser = busboy({ headers: request.headers, limits: { fieldSize: limits.eventBytes, fileSize: limits.imageBytes, files: 2, fields: 1 } });
    parser.on('field', (name, value, info) => {
      if (name !== 'event') return refuse({ code: 'INVALID_EVENT', field: name, message: `${name}: unknown part (send event, image, original_image)` });
      if (info.valueTruncated) return refuse({ code: 'PAYLOAD_TOO_LARGE', field: 'event', message: `event is over the limit of ${limits.eventBytes} bytes` });
      event = Buffer.from(value, 'utf8');
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => refuse({ code: 'PAYLOAD_TOO_LARGE', field: `images.${name}`, message: `images.${name} is over the limit of ${limits.imageBytes} bytes` }));
      stream.on('end', () => {
        if (!SLOTS.includes(name)) return refuse({ code: 'INVALID_EVENT', field: name, message: `${name}: unknown part (send event, image, original_image)` });
        if (!(IMAGE_CONTENT_TYPES as readonly string[]).includes(info.mimeType)) {
          return refuse({ code: 'INVALID_EVENT', field: `images.${name}.content_type`, message: `images.${name}: must be one of ${IMAGE_CONTENT_TYPES.join(', ')}` });
        }
        files.push({ slot: name as Slot, contentType: info.mimeType, bytes: Buffer.concat(chunks) });
      });
    });
    parser.on('error', (error: Error) => resolve({ ok: false, rejection: { code: 'MALFORMED_JSON', field: null, message: `malformed multipart body: ${error.message}` } }));
    parser.on('close', () => {
      if (rejection) return resolve({ ok: false, rejection });
      if (!event) return resolve({ ok: false, rejection: { code: 'INVALID_EVENT', field: 'event', message: 'event: the event part is required' } });
      resolve({ ok: true, event, files });
    });
    request.pipe(parser);
  });
}
