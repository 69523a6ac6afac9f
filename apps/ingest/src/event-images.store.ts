import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { ObjectStore } from '@nats-io/obj';
import { eventImagesSchema, type AgentEvent, type EventRejection } from '@app/events';
import { IMAGE_CONTENT_TYPE, NatsClient, openImageStore, PublishUnavailableError } from '@app/messaging';

type Slot = 'image' | 'original_image';

/**
 * Stores the images an agent attached to an event (its `images` field) and
 * puts their new ids in `event.image` / `event.original_image`; the field
 * itself never reaches the events stream.
 */
@Injectable()
export class EventImagesStore implements OnModuleInit {
  private store!: ObjectStore;

  constructor(private readonly nats: NatsClient) {}

  async onModuleInit(): Promise<void> {
    this.store = await openImageStore(this.nats);
  }

  /** Null when done (or nothing to do); a rejection when the attachments are malformed. */
  async extract(event: AgentEvent, maxImageBytes: number): Promise<EventRejection | null> {
    const record = event as AgentEvent & { images?: unknown };
    if (record.images === undefined) return null;
    const parsed = eventImagesSchema.safeParse(record.images);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = ['images', ...issue.path.map(String)].join('.');
      return { code: 'INVALID_EVENT', field, message: `${field}: ${issue.message}` };
    }
    for (const slot of ['image', 'original_image'] as Slot[]) {
      const attachment = parsed.data[slot];
      if (!attachment) continue;
      const bytes = Buffer.from(attachment.data, 'base64');
      if (bytes.length > maxImageBytes) {
        return { code: 'PAYLOAD_TOO_LARGE', field: `images.${slot}`, message: `images.${slot} is ${bytes.length} bytes; the limit is ${maxImageBytes}` };
      }
      const id = randomUUID();
      await this.store
        .putBlob({ name: id, metadata: { [IMAGE_CONTENT_TYPE]: attachment.content_type } }, bytes)
        .catch((error: Error) => {
          throw new PublishUnavailableError(`cannot store ${slot}: ${error.message}`, { cause: error });
        });
      event.event[slot] = id;
      // A link the agent sent pointed at its own copy, not at this one.
      delete event.event[`${slot}_link`];
    }
    delete record.images;
    return null;
  }
}
