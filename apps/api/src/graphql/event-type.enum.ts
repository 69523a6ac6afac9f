import { registerEnumType } from '@nestjs/graphql';
import { EVENT_TYPES, type EventType } from '@app/events';

/** OMNI's event types as the GraphQL enum EventType: each value spelled as in events (`identification`, …). */
export const EventTypeValue = Object.fromEntries(EVENT_TYPES.map((type) => [type, type])) as { readonly [T in EventType]: T };
registerEnumType(EventTypeValue, { name: 'EventType', description: "An event's `type`, as agents send it." });
