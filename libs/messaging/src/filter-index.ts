import type { EndpointView, FilterRecord } from './config-records.js';
import { idKey, type RoutingFields } from '@app/events';

/** Small lists are searched directly; longer ones become sets. */
const SET_THRESHOLD = 8;
type ValueSet = readonly string[] | ReadonlySet<string>;

/**
 * The ids of a filter record as keys (idKey), each once: routing fields hold
 * keys, and a record in the config bucket may spell an id in any case. Lists
 * the api wrote (lower case, de-duplicated) are kept as they are, without a
 * copy, which matters at a million filters.
 */
function keysOf(ids: string[]): string[] {
  return ids.every((id) => id === idKey(id)) ? ids : [...new Set(ids.map(idKey))];
}

// Small lists are kept as they are, without a copy.
const toValueSet = (values: string[]): ValueSet | null => (values.length === 0 ? null : values.length > SET_THRESHOLD ? new Set(values) : values);
const holds = (values: ValueSet | null, value: string): boolean =>
  values === null || (Array.isArray(values) ? values.includes(value) : (values as ReadonlySet<string>).has(value));
const holdsAny = (values: ValueSet | null, candidates: readonly string[]): boolean =>
  values === null || candidates.some((value) => holds(values, value));

type Dimension = 'camera' | 'agent' | 'group' | 'type';

/**
 * The filters indexed under one value. Most values have one or a few filters:
 * a small array costs a fraction of a Set, which matters at a million filters.
 */
type Bucket = CompiledFilter[] | Set<CompiledFilter>;
const BUCKET_SET_THRESHOLD = 32;

function addToBucket(index: Map<string, Bucket>, value: string, filter: CompiledFilter): void {
  const bucket = index.get(value);
  if (!bucket) {
    index.set(value, [filter]);
  } else if (Array.isArray(bucket)) {
    bucket.push(filter);
    if (bucket.length > BUCKET_SET_THRESHOLD) index.set(value, new Set(bucket));
  } else {
    bucket.add(filter);
  }
}

function removeFromBucket(index: Map<string, Bucket>, value: string, filter: CompiledFilter): void {
  const bucket = index.get(value);
  if (!bucket) return;
  if (Array.isArray(bucket)) {
    const at = bucket.indexOf(filter);
    if (at >= 0) bucket.splice(at, 1);
  } else {
    bucket.delete(filter);
  }
  if ((Array.isArray(bucket) ? bucket.length : bucket.size) === 0) index.delete(value);
}

interface CompiledFilter {
  id: string;
  endpointIds: readonly string[];
  cameras: ValueSet | null;
  agents: ValueSet | null;
  groups: ValueSet | null;
  types: ValueSet | null;
  /** The dimension it is indexed under: its most selective non-empty condition. */
  anchor: Dimension | null;
  anchorValues: readonly string[];
}

function compile(record: FilterRecord): CompiledFilter {
  const cameraIds = keysOf(record.cameraIds);
  const agentIds = keysOf(record.agentIds);
  const profileGroupIds = keysOf(record.profileGroupIds);
  const conditions: Array<[Dimension, string[]]> = [
    ['camera', cameraIds],
    ['agent', agentIds],
    ['group', profileGroupIds],
    ['type', record.eventTypes],
  ];
  const anchor = conditions.find(([, values]) => values.length > 0);
  return {
    id: idKey(record.id),
    endpointIds: keysOf(record.endpointIds),
    cameras: toValueSet(cameraIds),
    agents: toValueSet(agentIds),
    groups: toValueSet(profileGroupIds),
    types: toValueSet(record.eventTypes),
    anchor: anchor?.[0] ?? null,
    anchorValues: anchor ? anchor[1] : [],
  };
}

function passes(filter: CompiledFilter, event: RoutingFields): boolean {
  return (
    holds(filter.cameras, event.cameraId) &&
    holds(filter.agents, event.agentId) &&
    holds(filter.types, event.type) &&
    // An event without candidates has no groups, so it never passes a group condition.
    holdsAny(filter.groups, event.profileGroupIds)
  );
}

/**
 * Answers "which endpoints does this event go to" without looking at the
 * filters that cannot match: each filter is indexed under the values of one
 * condition (camera, else agent, else profile group, else event type), so an
 * event only visits the filters that name its camera, its agent, one of its
 * groups or its type, and checks their other conditions. An endpoint with no
 * filter receives every event; a filter with no endpoint routes nothing.
 * Ids are indexed and looked up by their keys (idKey); `targets` expects
 * routing fields as routingFieldsOf gives them, already keys.
 */
export class FilterIndex {
  private readonly filters = new Map<string, CompiledFilter>();
  private readonly anchors: Record<Dimension, Map<string, Bucket>> = {
    camera: new Map(),
    agent: new Map(),
    group: new Map(),
    type: new Map(),
  };
  /** Filters without any condition: they pass every event. */
  private readonly unconditional = new Set<CompiledFilter>();
  private readonly endpoints = new Map<string, EndpointView>();
  private readonly filtersPerEndpoint = new Map<string, number>();
  /** Endpoints that no filter names: they receive every event. */
  private readonly unfiltered = new Set<string>();

  get filterCount(): number {
    return this.filters.size;
  }

  upsertEndpoint(endpoint: EndpointView): void {
    const key = idKey(endpoint.id);
    this.endpoints.set(key, endpoint);
    if (!this.filtersPerEndpoint.get(key)) this.unfiltered.add(key);
  }

  removeEndpoint(id: string): void {
    const key = idKey(id);
    this.endpoints.delete(key);
    this.unfiltered.delete(key);
  }

  upsertFilter(record: FilterRecord): void {
    this.removeFilter(record.id);
    const filter = compile(record);
    this.filters.set(filter.id, filter);
    if (filter.anchor === null) {
      this.unconditional.add(filter);
    } else {
      const index = this.anchors[filter.anchor];
      for (const value of filter.anchorValues) addToBucket(index, value, filter);
    }
    for (const endpointId of filter.endpointIds) {
      this.filtersPerEndpoint.set(endpointId, (this.filtersPerEndpoint.get(endpointId) ?? 0) + 1);
      this.unfiltered.delete(endpointId);
    }
  }

  removeFilter(id: string): void {
    const filter = this.filters.get(idKey(id));
    if (!filter) return;
    this.filters.delete(filter.id);
    if (filter.anchor === null) {
      this.unconditional.delete(filter);
    } else {
      const index = this.anchors[filter.anchor];
      for (const value of filter.anchorValues) removeFromBucket(index, value, filter);
    }
    for (const endpointId of filter.endpointIds) {
      const remaining = (this.filtersPerEndpoint.get(endpointId) ?? 1) - 1;
      if (remaining > 0) {
        this.filtersPerEndpoint.set(endpointId, remaining);
      } else {
        this.filtersPerEndpoint.delete(endpointId);
        if (this.endpoints.has(endpointId)) this.unfiltered.add(endpointId);
      }
    }
  }

  /** The endpoints the event goes to, each once however many filters match. */
  targets(event: RoutingFields): EndpointView[] {
    const ids = new Set(this.unfiltered);
    const visit = (filters: Iterable<CompiledFilter> | undefined) => {
      if (!filters) return;
      for (const filter of filters) {
        if (!passes(filter, event)) continue;
        for (const endpointId of filter.endpointIds) ids.add(endpointId);
      }
    };
    visit(this.unconditional);
    visit(this.anchors.camera.get(event.cameraId));
    visit(this.anchors.agent.get(event.agentId));
    for (const group of event.profileGroupIds) visit(this.anchors.group.get(group));
    visit(this.anchors.type.get(event.type));
    const targets: EndpointView[] = [];
    for (const id of ids) {
      // A filter may still name an endpoint deleted a moment ago.
      const endpoint = this.endpoints.get(id);
      if (endpoint) targets.push(endpoint);
    }
    return targets;
  }
}
