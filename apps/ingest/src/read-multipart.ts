import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { IMAGE_CONTENT_TYPES, type EventRejection } from '@app/events';
import type { Attachment, Slot } from './event-images.store.js';

export type MultipartEvent = { ok: true; event: Buffer; files: Attachment[] } | { ok: false; rejection: EventRejection };

const SLOTS: readonly string[] = ['image', 'original_image'];

/**
 * Reads `multipart/form-data`: a field `event` (the event JSON) and files
 * `image` and `original_image` (JPEG, PNG or WebP), each within its limit,
 * the whole body within `bodyBytes`.
 */
export function readMultipart(request: IncomingMessage, limits: { bodyBytes: number; eventBytes: number; imageBytes: number }): Promise<MultipartEvent> {
  return new Promise((resolve) => {
    let event: Buffer | null = null;
    const files: Attachment[] = [];
    let rejection: EventRejection | null = null;
    const refuse = (value: EventRejection) => (rejection ??= value);
    const malformed = (error: Error) => resolve({ ok: false, rejection: { code: 'MALFORMED_JSON', field: null, message: `malformed multipart body: ${error.message}` } });
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: request.headers, limits: { fieldSize: limits.eventBytes, fileSize: limits.imageBytes, files: 2, fields: 1 } });
    } catch (error) {
      return malformed(error as Error);
    }
    const unknownPart = (name: string | undefined) => refuse({ code: 'INVALID_EVENT', field: name ?? '', message: `${name ?? ''}: unknown part (send event, image, original_image)` });
    parser.on('field', (name, value, info) => {
      if (name !== 'event') return unknownPart(name);
      if (info.valueTruncated) return refuse({ code: 'PAYLOAD_TOO_LARGE', field: 'event', message: `event is over the limit of ${limits.eventBytes} bytes` });
      event = Buffer.from(value, 'utf8');
    });
    parser.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => refuse({ code: 'PAYLOAD_TOO_LARGE', field: `images.${name}`, message: `images.${name} is over the limit of ${limits.imageBytes} bytes` }));
      stream.on('end', () => {
        if (!SLOTS.includes(name)) return unknownPart(name);
        if (!(IMAGE_CONTENT_TYPES as readonly string[]).includes(info.mimeType)) {
          return refuse({ code: 'INVALID_EVENT', field: `images.${name}.content_type`, message: `images.${name}: must be one of ${IMAGE_CONTENT_TYPES.join(', ')}` });
        }
        files.push({ slot: name as Slot, contentType: info.mimeType, bytes: Buffer.concat(chunks) });
      });
    });
    parser.on('error', malformed);
    parser.on('close', () => {
      if (rejection) return resolve({ ok: false, rejection });
      if (!event) return resolve({ ok: false, rejection: { code: 'INVALID_EVENT', field: 'event', message: 'event: the event part is required' } });
      resolve({ ok: true, event, files });
    });
    let received = 0;
    request.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limits.bodyBytes) return;
      request.unpipe(parser);
      resolve({ ok: false, rejection: { code: 'PAYLOAD_TOO_LARGE', field: null, message: `body is over the limit of ${limits.bodyBytes} bytes` } });
    });
    request.pipe(parser);
  });
}
