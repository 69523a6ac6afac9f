import { z } from 'zod';

/** Image types ingest stores and the api serves. */
export const IMAGE_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;

const attachment = z.object({
  content_type: z.enum(IMAGE_CONTENT_TYPES),
  data: z.base64('must be base64'),
});

/**
 * Images an agent may attach to an event, in a top-level `images` field that
 * ingest removes before the event is stored (docs/event-format.md).
 */
export const eventImagesSchema = z.object({
  image: attachment.optional(),
  original_image: attachment.optional(),
});

export type EventImages = z.infer<typeof eventImagesSchema>;
