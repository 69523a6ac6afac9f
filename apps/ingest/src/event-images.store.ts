import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ObjectStore } from '@nats-io/obj';
import { eventImagesSchema, firstIssue, schemaMessages, type AgentEvent, type EventRejection } from '@app/events';
import { IMAGE_CONTENT_TYPE, isStoreFull, NatsClient, openImageStore, PublishUnavailableError, StreamFullError } from '@app/messaging';

export type Slot = 'image' | 'original_image';

/** An image to store with an event, whichever way it came (base64 in JSON, a multipart file). */
export interface Attachment {
  slot: Slot;
  contentType: string;
  bytes: Buffer;
}

/**
 * Stores the images an agent attached to an event (its `images` field) and
 * puts their new ids in `event.image` / `event.original_image`; the field
 * itself never reaches the events stream.
 */
@Injectable()
export class EventImagesStore implements OnModuleInit {
  private readonly logger = new Logger(EventImagesStore.name);
  private objects!: ObjectStore;

  constructor(private readonly nats: NatsClient) {}

  async onModuleInit(): Promise<void> {
    this.objects = await openImageStore(this.nats);
  }

  /**
   * Null when done (or nothing to do); a rejection when the attachments are
   * malformed. The ids of the images stored are added to `stored`.
   */
  async extract(event: AgentEvent, maxImageBytes: number, stored: string[]): Promise<EventRejection | null> {
    const record = event as AgentEvent & { images?: unknown };
    if (record.images === undefined) return null;
    const parsed = eventImagesSchema.safeParse(record.images, { error: schemaMessages });
    if (!parsed.success) {
      const { field, message } = firstIssue(parsed.error, ['images']);
      return { code: 'INVALID_EVENT', field, message: `${field}: ${message}` };
    }
    delete record.images;
    const attachments: Attachment[] = [];
    for (const slot of ['image', 'original_image'] as Slot[]) {
      const attachment = parsed.data[slot];
      if (attachment) attachments.push({ slot, contentType: attachment.content_type, bytes: Buffer.from(attachment.data, 'base64') });
    }
    return this.store(event, attachments, maxImageBytes, stored);
  }

  /** Stores each attachment under a new id and points the event at it; the ids are added to `stored`. */
  async store(event: AgentEvent, attachments: Attachment[], maxImageBytes: number, stored: string[]): Promise<EventRejection | null> {
    for (const { slot, bytes } of attachments) {
      if (bytes.length > maxImageBytes) {
        return { code: 'PAYLOAD_TOO_LARGE', field: `images.${slot}`, message: `images.${slot} is ${bytes.length} bytes; the limit is ${maxImageBytes}` };
      }
    }
    for (const { slot, contentType, bytes } of attachments) {
      const id = randomUUID();
      await this.objects
        .putBlob({ name: id, metadata: { [IMAGE_CONTENT_TYPE]: contentType } }, bytes)
        .catch((error: Error) => {
          if (isStoreFull(error)) throw new StreamFullError(`cannot store ${slot}: the image store is full`, { cause: error });
          throw new PublishUnavailableError(`cannot store ${slot}: ${error.message}`, { cause: error });
        });
      stored.push(id);
      event.event[slot] = id;
      // A link the agent sent pointed at its own copy, not at this one.
      delete event.event[`${slot}_link`];
    }
    return null;
  }

  /**
   * Removes images stored for an event that was then not stored itself
   * (refused, or the store unavailable) or was a duplicate (its first copy
   * points at its own images). Best effort: one left behind expires with the
   * store's retention.
   */
  async remove(ids: string[]): Promise<void> {
    for (const id of ids) {
      await this.objects.delete(id).catch((error: Error) => this.logger.warn(`cannot remove image ${id} of an event not stored: ${error.message}`));
    }
  }
}
