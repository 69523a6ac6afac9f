import { keysOf } from '../graphql/collection.model.js';
import type { EventFilterConditionsInput } from './event-filter.model.js';

export interface FilterConditions {
  cameraIds: string[];
  agentIds: string[];
  profileGroupIds: string[];
  eventTypes: string[];
}

/**
 * The conditions a filter gets from `input` (checked by the rules of
 * EventFilterConditionsInput), each value once, ids as keys; absent ones are
 * taken from `current` (an update), or are empty (a creation).
 */
export function conditionsOf(input: EventFilterConditionsInput | undefined | null, current?: FilterConditions): FilterConditions {
  const eventTypes = input?.eventTypes;
  return {
    cameraIds: input?.cameraIds ? keysOf(input.cameraIds) : (current?.cameraIds ?? []),
    agentIds: input?.agentIds ? keysOf(input.agentIds) : (current?.agentIds ?? []),
    profileGroupIds: input?.profileGroupIds ? keysOf(input.profileGroupIds) : (current?.profileGroupIds ?? []),
    eventTypes: eventTypes ? [...new Set(eventTypes)] : (current?.eventTypes ?? []),
  };
}
