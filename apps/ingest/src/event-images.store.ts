import { createHash } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { ObjectStore } from '@nats-io/obj';
import { eventImagesSchema, firstIssue, idKey, schemaMessages, type AgentEvent, type EventRejection } from '@app/events';
import { addImage, isStoreFull, NatsClient, openImageStore, PublishUnavailableError, StreamFullError } from '@app/messaging';

export type Slot = 'image' | 'original_image';

/** An image to store with an event, whichever way it came (base64 in JSON, a multipart file). */
export interface Attachment {
  slot: Slot;
  contentType: string;
  bytes: Buffer;
}

/**
 * Stores the images an agent attached to an event (its `images` field, or
 * multipart files) and puts their ids in `event.image` /
 * `event.original_image`; the field itself never reaches the events stream.
 *
 * An image's id is derived from its agent, its event, its slot and its
 * bytes (imageIdOf): a re-sent event (a retry after a lost answer) names the
 * very images its first copy stored, which are then not stored again. So an
 * event that is a duplicate, or that failed after its images were stored,
 * leaves nothing behind that a retry would not use, and ingest never
 * removes an image: its NATS user may add images but not purge the store.
 */
@Injectable()
export class EventImagesStore implements OnModuleInit {
  private objects!: ObjectStore;

  constructor(private readonly nats: NatsClient) {}

  async onModuleInit(): Promise<void> {
    this.objects = await openImageStore(this.nats);
  }

  /**
   * Takes the `images` field out of the event, with the files, as the
   * attachments to store; a rejection when they are malformed or too large.
   */
  attachmentsOf(event: AgentEvent, files: Attachment[], maxImageBytes: number): Attachment[] | EventRejection {
    const record = event as AgentEvent & { images?: unknown };
    const attachments = [...files];
    if (record.images !== undefined) {
      const parsed = eventImagesSchema.safeParse(record.images, { error: schemaMessages });
      if (!parsed.success) {
        const { field, message } = firstIssue(parsed.error, ['images']);
        return { code: 'INVALID_EVENT', field, message: `${field}: ${message}` };
      }
      delete record.images;
      for (const slot of ['image', 'original_image'] as Slot[]) {
        const attachment = parsed.data[slot];
        if (attachment) attachments.push({ slot, contentType: attachment.content_type, bytes: Buffer.from(attachment.data, 'base64') });
      }
    }
    for (const { slot, bytes } of attachments) {
      if (bytes.length > maxImageBytes) {
        return { code: 'PAYLOAD_TOO_LARGE', field: `images.${slot}`, message: `images.${slot} is ${bytes.length} bytes; the limit is ${maxImageBytes}` };
      }
    }
    return attachments;
  }

  /** Points the event at its attachments' ids (imageIdOf), without storing them yet; returns each with its id. */
  assign(event: AgentEvent, attachments: Attachment[]): Array<Attachment & { id: string }> {
    return attachments.map((attachment) => {
      const id = imageIdOf(event, attachment);
      event.event[attachment.slot] = id;
      // A link the agent sent pointed at its own copy, not at this one.
      delete event.event[`${attachment.slot}_link`];
      return { ...attachment, id };
    });
  }

  /** Stores each image the store does not hold yet (a re-sent event's are there already). */
  async save(images: Array<Attachment & { id: string }>): Promise<void> {
    for (const { id, slot, contentType, bytes } of images) {
      try {
        const existing = await this.objects.info(id);
        if (existing && !existing.deleted) continue;
        // Added, never put: the object store client purges (a name taken, a failed put), which ingest may not.
        await addImage(this.nats, id, contentType, bytes);
      } catch (error) {
        if (isStoreFull(error as Error)) throw new StreamFullError(`cannot store ${slot}: the image store is full`, { cause: error });
        throw new PublishUnavailableError(`cannot store ${slot}: ${(error as Error).message}`, { cause: error });
      }
    }
  }
}

/**
 * An image's id: a UUID (version 8) made of the SHA-256 of its agent's and
 * event's keys, its slot and its bytes. The same image of the same event
 * gets the same id on every replica and every retry; nobody who does not
 * hold the image can guess it (122 bits), as the image links require.
 */
export function imageIdOf(event: AgentEvent, { slot, bytes }: Attachment): string {
  const digest = createHash('sha256').update(`${idKey(event.camera.agent_id)}\n${idKey(event.event.id)}\n${slot}\n`).update(bytes).digest();
  digest[6] = (digest[6]! & 0x0f) | 0x80;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
