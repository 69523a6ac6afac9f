import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventOf, type EventJson, type EventSpec } from './support/fixtures.js';
import { idKey } from '@app/events';
import { DEFAULT_PARTITIONS, partitionOf } from '@app/messaging';
import { TestStack, type Instance } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const [C1, C2, C3] = [randomUUID(), randomUUID(), randomUUID()];
const [A1, A2] = [randomUUID(), randomUUID()];
const [G1, G2] = [randomUUID(), randomUUID()];

describe('event filters through the real pipeline', () => {
  let stack: TestStack;

  beforeAll(async () => {
    // Its events pair cameras and agents every way the filters can tell apart: no camera is bound to one agent here.
    stack = await TestStack.start({ appEnv: { ingest: { CAMERA_BINDING: 'off' } } });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Creates a websocket endpoint and connects a client to it. */
  async function endpointWithClient(name: string): Promise<{ id: string; client: TestClient }> {
    const id = await stack.createWebsocketEndpoint(name);
    return { id, client: await TestClient.connect(stack.websocketUrl(id)) };
  }

  it('routes each event to exactly the endpoints whose filters it passes, once each', async () => {
    const endpoints = Object.fromEntries(
      await Promise.all(
        ['all', 'camera', 'agent', 'group', 'type', 'combined', 'twoFilters', 'shared1', 'shared2'].map(async (name) => [name, await endpointWithClient(name)] as const),
      ),
    );
    const id = (name: string) => endpoints[name]!.id;
    await stack.createEventFilter({ name: 'camera', endpointIds: [id('camera')], in: { cameraIds: [C1] } });
    await stack.createEventFilter({ name: 'agent', endpointIds: [id('agent')], in: { agentIds: [A2] } });
    await stack.createEventFilter({ name: 'watchlist', endpointIds: [id('group')], in: { profileGroupIds: [G1] } });
    await stack.createEventFilter({ name: 'types', endpointIds: [id('type')], in: { eventTypes: ['roi', 'crossing'] } });
    await stack.createEventFilter({
      name: 'combined',
      endpointIds: [id('combined')],
      in: { cameraIds: [C1], agentIds: [A1], profileGroupIds: [G2], eventTypes: ['identification'] },
    });
    await stack.createEventFilter({ name: 'second camera', endpointIds: [id('twoFilters')], in: { cameraIds: [C2] } });
    await stack.createEventFilter({ name: 'falls', endpointIds: [id('twoFilters')], in: { eventTypes: ['har'] } });
    await stack.createEventFilter({ name: 'shared', endpointIds: [id('shared1'), id('shared2')], in: { eventTypes: ['face_hide_control'] } });
    await stack.createEventFilter({ name: 'no endpoint', endpointIds: [], in: { cameraIds: [C1] } });
    await stack.waitForConfig();

    const table: Array<[string, EventSpec, string[]]> = [
      ['identification, first camera, watchlist G1', { type: 'identification', cameraId: C1, agentId: A1, candidateGroups: [[G1]] }, ['all', 'camera', 'group']],
      ['identification passing every combined condition', { type: 'identification', cameraId: C1, agentId: A1, candidateGroups: [[G2]] }, ['all', 'camera', 'combined']],
      ['identification, two candidates in G1 and G2', { type: 'identification', cameraId: C2, agentId: A2, candidateGroups: [[G1], [G2]] }, ['all', 'agent', 'group', 'twoFilters']],
      ['identification without candidates', { type: 'identification', cameraId: C2, agentId: A1, candidateGroups: [] }, ['all', 'twoFilters']],
      ['non_identification on the first camera', { type: 'non_identification', cameraId: C1, agentId: A1 }, ['all', 'camera']],
      ['roi on the second camera', { type: 'roi', cameraId: C2, agentId: A1 }, ['all', 'type', 'twoFilters']],
      ['har passing both filters of one endpoint', { type: 'har', cameraId: C2, agentId: A2 }, ['all', 'agent', 'twoFilters']],
      ['crossing with a G1 candidate', { type: 'crossing', cameraId: C1, agentId: A2, candidateGroups: [[G1]] }, ['all', 'camera', 'agent', 'group', 'type']],
      ['face_hide_control, one filter on two endpoints', { type: 'face_hide_control', cameraId: C3, agentId: A1 }, ['all', 'shared1', 'shared2']],
      ['har on an unknown camera with a G2 candidate', { type: 'har', cameraId: C3, agentId: A1, candidateGroups: [[G2]] }, ['all', 'twoFilters']],
    ];
    const events = table.map(([, spec]) => eventOf(spec));
    for (const event of events) {
      expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    }

    const expected = Object.fromEntries(Object.keys(endpoints).map((name) => [name, [] as string[]]));
    table.forEach(([, , names], index) => names.forEach((name) => expected[name]!.push(events[index]!.event.id)));
    const deliveries = Object.values(expected).reduce((sum, ids) => sum + ids.length, 0);
    const clients = Object.values(endpoints).map((endpoint) => endpoint.client);
    await waitFor(() => clients.reduce((sum, client) => sum + client.frames.length, 0) >= deliveries, { what: `${deliveries} deliveries` });
    await stack.waitForRoutingDone(deliveries);

    const received = Object.fromEntries(Object.entries(endpoints).map(([name, endpoint]) => [name, endpoint.client.eventIds()]));
    // Which events, not in which order: order is kept per camera (test/partitions.e2e.spec.ts), and these come from three.
    const describeIds = (ids: string[]) => ids.map((eventId) => table[events.findIndex((event) => event.event.id === eventId)]![0]).sort();
    for (const name of Object.keys(endpoints)) {
      expect([name, describeIds(received[name]!)]).toEqual([name, describeIds(expected[name]!)]);
    }
    clients.forEach((client) => client.close());
  });

  it('applies a filter created, changed and deleted while events flow, on every router replica, losing and duplicating nothing elsewhere', async () => {
    // Two router replicas share the work: each event is routed by one of them, with its own copy of the filters.
    const secondRouter = await stack.startReplica('filter-router');
    // Partitioned by camera: once the second replica holds its share, one camera of each replica's partitions.
    const held = async (router: Instance) => (await stack.readiness(router)).consumers['filter-router'].partitions as number[];
    await waitFor(async () => (await held(secondRouter)).length > 0 && (await held('filter-router')).length + (await held(secondRouter)).length === DEFAULT_PARTITIONS, {
      what: 'the two router replicas to share the partitions',
    });
    const cameraIn = (partitions: number[]): string => {
      for (;;) {
        const camera = randomUUID();
        if (partitions.includes(partitionOf(idKey(camera), DEFAULT_PARTITIONS))) return camera;
      }
    };
    const C1 = cameraIn(await held('filter-router'));
    const C2 = cameraIn(await held(secondRouter));
    const bystander = await endpointWithClient('bystander');
    const filtered = await endpointWithClient('bystander with a filter');
    const subject = await endpointWithClient('subject');
    await stack.createEventFilter({ name: 'bystander', endpointIds: [filtered.id], in: { cameraIds: [C1] } });
    await stack.waitForConfig();

    // Background traffic on a third camera flows all along, through every change.
    let flowing = true;
    const background: string[] = [];
    const backgroundLoop = (async () => {
      while (flowing) {
        const event = eventOf({ type: 'identification', cameraId: C3, agentId: A1, candidateGroups: [[G1]] });
        background.push(event.event.id);
        await stack.postEvent(JSON.stringify(event));
      }
    })();

    const phases: EventJson[][] = [];
    const publishPhase = async () => {
      const phase = Array.from({ length: 20 }, (_, index) => eventOf({ type: 'identification', cameraId: index % 2 ? C1 : C2, agentId: A1, candidateGroups: [[G1]] }));
      for (const event of phase) await stack.postEvent(JSON.stringify(event));
      phases.push(phase);
      // The unfiltered bystander receives every event: once it has all of the phase's, the phase is routed
      // (two replicas route concurrently, so the last one published is not necessarily the last routed).
      await waitFor(() => phase.every((event) => bystander.client.eventIds().includes(event.event.id)), { what: 'the phase to be routed' });
    };
    const changeFilter = async (query: string, variables: Record<string, unknown>) => {
      const result = await stack.graphql(query, variables);
      expect(result.errors).toBeUndefined();
      await stack.waitForConfig();
      return result.data;
    };

    await publishPhase();
    const created = await changeFilter('mutation($input: EventFiltersInput!) { createEventFilters(eventFiltersInput: $input) { id } }', {
      input: { name: 'moving', endpointIds: [subject.id], in: { cameraIds: [C2] } },
    });
    const filterId = created.createEventFilters.id as string;
    await publishPhase();
    await changeFilter('mutation($id: ID!) { updateEventFilters(id: $id, eventFiltersInput: { in: { cameraIds: ["' + C1 + '"] } }) { id } }', { id: filterId });
    await publishPhase();
    await changeFilter('mutation($id: ID!) { deleteEventFilters(id: $id) }', { id: filterId });
    await publishPhase();
    flowing = false;
    await backgroundLoop;

    const foreground = phases.flat();
    const everything = [...foreground.map((event) => event.event.id), ...background];
    await bystander.client.waitForEvents(everything.length);
    await stack.waitForRoutingDone();

    const ids = (events: EventJson[]) => events.map((event) => event.event.id);
    const onCamera = (events: EventJson[], camera: string) => ids(events.filter((event) => event.camera.id === camera));
    expect(bystander.client.eventIds().sort()).toEqual([...everything].sort());
    expect(filtered.client.eventIds().sort()).toEqual(onCamera(foreground, C1).sort());
    const subjectIds = subject.client.eventIds();
    expect(new Set(subjectIds).size).toBe(subjectIds.length);
    const subjectOf = (phase: EventJson[]) => subjectIds.filter((id) => ids(phase).includes(id)).sort();
    expect(subjectOf(phases[0]!)).toEqual(ids(phases[0]!).sort());
    expect(subjectOf(phases[1]!)).toEqual(onCamera(phases[1]!, C2).sort());
    expect(subjectOf(phases[2]!)).toEqual(onCamera(phases[2]!, C1).sort());
    expect(subjectOf(phases[3]!)).toEqual(ids(phases[3]!).sort());
    for (const router of ['filter-router', secondRouter] as const) {
      expect((await stack.readiness(router)).consumers['filter-router'].done).toBeGreaterThan(0);
    }
    [bystander, filtered, subject].forEach((endpoint) => endpoint.client.close());
  });
});
