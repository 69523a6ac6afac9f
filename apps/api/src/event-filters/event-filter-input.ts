import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';
import type { EventFilterConditionsInput } from './event-filter.model.js';

export interface FilterConditions {
  cameraIds: string[];
  agentIds: string[];
  profileGroupIds: string[];
  eventTypes: string[];
}

const MAX_VALUES = 10_000;

function uuids(field: string, values: readonly string[]): string[] {
  if (values.length > MAX_VALUES) throw ApiError.badInput(field, `must have at most ${MAX_VALUES} values`);
  return [...new Set(values.map((value, index) => parseUuid(`${field}.${index}`, value)))];
}

/** Validates the ids of endpoints a filter targets (their existence is checked by the caller). */
export function parseEndpointIds(values: readonly string[]): string[] {
  return uuids('endpointIds', values);
}

/**
 * Validates conditions; absent ones are taken from `current` (an update),
 * or are empty (a creation). Event types need no check here: GraphQL
 * refuses any value outside the EventType enum.
 */
export function parseConditions(input: EventFilterConditionsInput | undefined | null, current?: FilterConditions): FilterConditions {
  const eventTypes = input?.eventTypes;
  return {
    cameraIds: input?.cameraIds ? uuids('in.cameraIds', input.cameraIds) : (current?.cameraIds ?? []),
    agentIds: input?.agentIds ? uuids('in.agentIds', input.agentIds) : (current?.agentIds ?? []),
    profileGroupIds: input?.profileGroupIds ? uuids('in.profileGroupIds', input.profileGroupIds) : (current?.profileGroupIds ?? []),
    eventTypes: eventTypes ? [...new Set(eventTypes)] : (current?.eventTypes ?? []),
  };
}
