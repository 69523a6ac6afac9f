import { z } from 'zod';
import { uuidSchema, wrongTypeMessage } from './schema-messages.js';

/** OMNI's event types; the envelope of every one is validated the same way. */
export const EVENT_TYPES = ['identification', 'non_identification', 'har', 'roi', 'crossing', 'face_hide_control'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** `2024-05-29 10:48:27.364000+00:00` as agents send it (ISO-8601 with `T` or `Z` accepted too). */
const DETECTION_DATE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/;

const id = uuidSchema();
// The wrong-type message names null too: these fields take a value of their type or null.
const nullableText = z.string({ error: (issue) => wrongTypeMessage('a string or null', issue.input) }).nullable();
const nullableNumber = z.number({ error: (issue) => wrongTypeMessage('a number or null', issue.input) }).nullable();

// Objects are loose: fields the schema does not know travel on unchanged, so
// newer agents are never broken by an older event-service.
const cameraSchema = z.looseObject({
  id,
  type: z.string(),
  title: nullableText,
  stream: nullableText,
  real_name: nullableText,
  agent_id: id,
});

const candidateSchema = z.looseObject({
  profile: z.looseObject({
    id,
    age: nullableNumber.optional(),
    gender: nullableText.optional(),
    avatar_id: nullableText.optional(),
    main_sample_id: nullableText.optional(),
    sample_link: nullableText.optional(),
  }),
  profile_groups: z.array(z.looseObject({ id, color: nullableText.optional() })),
  confidence: z.number().min(0).max(1),
});

const detailsSchema = z.looseObject({
  id,
  detection_date: z.string().regex(DETECTION_DATE, 'must be a date like 2024-05-29 10:48:27.364000+00:00'),
  image: nullableText.optional(),
  original_image: nullableText.optional(),
  image_link: nullableText.optional(),
  original_image_link: nullableText.optional(),
});

const envelope = {
  activity_id: id,
  camera: cameraSchema,
  event: detailsSchema,
};

// The per-type details are OMNI's documented values; each is checked only when present.
const typeSchemas = [
  z.looseObject({ type: z.literal('identification'), ...envelope, candidates: z.array(candidateSchema) }),
  z.looseObject({ type: z.literal('non_identification'), ...envelope, candidates: z.never('must be absent in a non_identification event').optional() }),
  z.looseObject({
    type: z.literal('har'),
    ...envelope,
    candidates: z.array(candidateSchema).optional(),
    event: detailsSchema.extend({ action: z.enum(['fall', 'sit', 'lie', 'fight']).optional() }),
  }),
  z.looseObject({
    type: z.literal('roi'),
    ...envelope,
    candidates: z.array(candidateSchema).optional(),
    event: detailsSchema.extend({ direction: z.enum(['in', 'out']).optional() }),
  }),
  z.looseObject({
    type: z.literal('crossing'),
    ...envelope,
    candidates: z.array(candidateSchema).optional(),
    event: detailsSchema.extend({ direction: z.enum(['forward', 'reverse']).optional() }),
  }),
  z.looseObject({
    type: z.literal('face_hide_control'),
    ...envelope,
    candidates: z.array(candidateSchema).optional(),
    event: detailsSchema.extend({
      status: z.enum(['hidden_or_low_quality', 'identification', 'non_identification']).optional(),
    }),
  }),
] as const;

export const agentEventSchema = z.discriminatedUnion('type', typeSchemas, {
  // The union's issue has the whole event as its input: an event without a type is told so.
  error: (issue) => {
    if (issue.code !== 'invalid_union') return undefined;
    const input = issue.input as Record<string, unknown> | undefined;
    return input?.type === undefined ? 'is required' : `must be one of ${EVENT_TYPES.join(', ')}`;
  },
});

/** An event as agents send it and integrators receive it (the seed's format). */
export type AgentEvent = z.infer<typeof agentEventSchema>;
export type Candidate = z.infer<typeof candidateSchema>;
