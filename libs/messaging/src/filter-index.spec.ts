import { describe, expect, it } from '@jest/globals';
import type { EndpointView, FilterRecord } from './config-records.js';
import { FilterIndex } from './filter-index.js';
import type { RoutingFields } from '@app/events';

const endpoint = (id: string): EndpointView => ({ id, name: id, type: 'WEB_SOCKET', meta: {}, state: 'ACTIVE', resumeGeneration: 0, version: 1 });
const filter = (id: string, endpointIds: string[], conditions: Partial<Omit<FilterRecord, 'id' | 'endpointIds'>> = {}): FilterRecord => ({
  id,
  endpointIds,
  cameraIds: [],
  agentIds: [],
  profileGroupIds: [],
  eventTypes: [],
  version: 1,
  ...conditions,
});
const event: RoutingFields = { type: 'identification', cameraId: 'cam-1', agentId: 'agent-1', profileGroupIds: ['group-1', 'group-2'] };
const targetsOf = (index: FilterIndex, routed = event) => index.targets(routed).map((target) => target.id).sort();

describe('FilterIndex', () => {
  it('sends every event to an endpoint with no filter, and nothing through a filter with no endpoint', () => {
    const index = new FilterIndex();
    index.upsertEndpoint(endpoint('open'));
    index.upsertFilter(filter('orphan', []));
    expect(targetsOf(index)).toEqual(['open']);
  });

  it('sends an endpoint with filters only the events one of them passes, once however many pass', () => {
    const index = new FilterIndex();
    ['a', 'b'].forEach((id) => index.upsertEndpoint(endpoint(id)));
    index.upsertFilter(filter('by-camera', ['a'], { cameraIds: ['cam-1'] }));
    index.upsertFilter(filter('by-type', ['a'], { eventTypes: ['identification'] }));
    index.upsertFilter(filter('other-camera', ['b'], { cameraIds: ['cam-2'] }));
    expect(targetsOf(index)).toEqual(['a']);
    expect(index.targets(event)).toHaveLength(1);
  });

  it('requires every non-empty condition and any value within one', () => {
    const index = new FilterIndex();
    ['pass', 'wrong-agent', 'wrong-group', 'wrong-type'].forEach((id) => index.upsertEndpoint(endpoint(id)));
    index.upsertFilter(filter('1', ['pass'], { cameraIds: ['cam-9', 'cam-1'], agentIds: ['agent-1'], profileGroupIds: ['group-2'], eventTypes: ['roi', 'identification'] }));
    index.upsertFilter(filter('2', ['wrong-agent'], { cameraIds: ['cam-1'], agentIds: ['agent-2'] }));
    index.upsertFilter(filter('3', ['wrong-group'], { cameraIds: ['cam-1'], profileGroupIds: ['group-3'] }));
    index.upsertFilter(filter('4', ['wrong-type'], { agentIds: ['agent-1'], eventTypes: ['roi'] }));
    expect(targetsOf(index)).toEqual(['pass']);
  });

  it('never passes a profile-group condition for an event without candidates', () => {
    const index = new FilterIndex();
    index.upsertEndpoint(endpoint('watchlist'));
    index.upsertFilter(filter('groups', ['watchlist'], { profileGroupIds: ['group-1'] }));
    expect(targetsOf(index, { ...event, type: 'non_identification', profileGroupIds: [] })).toEqual([]);
    expect(targetsOf(index)).toEqual(['watchlist']);
  });

  it('applies changes and removals, giving an endpoint back every event when its last filter goes', () => {
    const index = new FilterIndex();
    index.upsertEndpoint(endpoint('a'));
    index.upsertFilter(filter('f', ['a'], { cameraIds: ['cam-2'] }));
    expect(targetsOf(index)).toEqual([]);
    index.upsertFilter(filter('f', ['a'], { cameraIds: ['cam-1'] }));
    expect(targetsOf(index)).toEqual(['a']);
    index.upsertFilter(filter('f', ['a'], { cameraIds: ['cam-3'] }));
    expect(targetsOf(index)).toEqual([]);
    index.removeFilter('f');
    expect(targetsOf(index)).toEqual(['a']);
  });

  it('indexes conditions and endpoint ids in any case under their keys', () => {
    const index = new FilterIndex();
    ['a', 'b'].forEach((id) => index.upsertEndpoint(endpoint(id)));
    index.upsertFilter(filter('f', ['A'], { cameraIds: ['CAM-1', 'cam-1'], agentIds: ['Agent-1'], profileGroupIds: ['GROUP-2'] }));
    index.upsertFilter(filter('g', ['B'], { agentIds: ['AGENT-1'] }));
    expect(targetsOf(index)).toEqual(['a', 'b']);
    index.removeFilter('F');
    index.removeEndpoint('B');
    expect(targetsOf(index)).toEqual(['a']);
  });

  it('skips an endpoint that was deleted while a filter still names it', () => {
    const index = new FilterIndex();
    index.upsertEndpoint(endpoint('a'));
    index.upsertFilter(filter('f', ['a', 'gone'], { cameraIds: ['cam-1'] }));
    index.upsertEndpoint(endpoint('gone'));
    index.removeEndpoint('gone');
    expect(targetsOf(index)).toEqual(['a']);
  });
});
