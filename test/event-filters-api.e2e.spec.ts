import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestStack } from './support/stack.js';

const FILTER_FIELDS = 'id name routesEvents endpoints { id name } in { cameraIds agentIds profileGroupIds eventTypes } creationDate lastModified';
const LIST = `query($filters: EventFilterFilters, $order: EventFilterOrder, $pagination: Pagination) {
  eventsFilters(filters: $filters, order: $order, pagination: $pagination) { totalCount collectionItems { ${FILTER_FIELDS} } }
}`;
const CREATE = `mutation($input: EventFiltersInput!) { createEventFilters(eventFiltersInput: $input) { ${FILTER_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: EventFiltersUpdateInput!) { updateEventFilters(id: $id, eventFiltersInput: $input) { ${FILTER_FIELDS} } }`;

describe('event filters through GraphQL (OMNI names)', () => {
  let stack: TestStack;
  let lobby: string;
  let gate: string;

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['api'] });
    lobby = await stack.createWebsocketEndpoint('lobby');
    gate = await stack.createWebsocketEndpoint('gate');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('creates a filter with its endpoints and conditions, and shows it on its endpoints', async () => {
    const camera = randomUUID();
    const { data } = await stack.graphql(
      `mutation($endpointIds: [ID!], $cameraIds: [ID!]) {
        createEventFilters(eventFiltersInput: { name: "vip at the lobby", endpointIds: $endpointIds, in: { cameraIds: $cameraIds, eventTypes: [identification] } }) { ${FILTER_FIELDS} }
      }`,
      { endpointIds: [lobby, gate], cameraIds: [camera] },
    );

    expect(data.createEventFilters).toMatchObject({
      name: 'vip at the lobby',
      routesEvents: true,
      in: { cameraIds: [camera], agentIds: [], profileGroupIds: [], eventTypes: ['identification'] },
    });
    expect(data.createEventFilters.endpoints.map((endpoint: any) => endpoint.name).sort()).toEqual(['gate', 'lobby']);
    const endpoints = await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { eventFilters { name } } } }', { id: lobby });
    expect(endpoints.data.endpoints.collectionItems[0].eventFilters).toEqual([{ name: 'vip at the lobby' }]);
  });

  it.each([
    ['an unknown endpoint id', { name: 'f', endpointIds: [randomUUID()] }, 'endpointIds'],
    ['a malformed endpoint id', { name: 'f', endpointIds: ['lobby'] }, 'endpointIds.0'],
    ['a malformed camera id', { name: 'f', in: { cameraIds: ['camera-1'] } }, 'in.cameraIds.0'],
    ['a malformed watchlist id', { name: 'f', in: { profileGroupIds: [randomUUID(), 'x'] } }, 'in.profileGroupIds.1'],
    ['an empty name', { name: ' ' }, 'name'],
  ])('refuses %s with BAD_USER_INPUT naming the field, creating nothing', async (_case, input, field) => {
    const before = (await stack.graphql(LIST)).data.eventsFilters.totalCount;

    const result = await stack.graphql(CREATE, { input });

    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect((await stack.graphql(LIST)).data.eventsFilters.totalCount).toBe(before);
  });

  it('refuses an unknown event type as the schema does, naming the value and the EventType enum, creating nothing', async () => {
    const before = (await stack.graphql(LIST)).data.eventsFilters.totalCount;

    const asVariable = await stack.graphql(CREATE, { input: { name: 'f', in: { eventTypes: ['identification', 'smile'] } } });
    const inline = await stack.graphql('mutation { createEventFilters(eventFiltersInput: { name: "f", in: { eventTypes: [identification, smile] } }) { id } }');

    expect(asVariable.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(inline.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
    for (const result of [asVariable, inline]) {
      expect(result.errors?.[0]?.message).toContain('"smile"');
      expect(result.errors?.[0]?.message).toContain('"EventType"');
    }
    expect((await stack.graphql(LIST)).data.eventsFilters.totalCount).toBe(before);
  });

  it('updates any field, replacing the endpoints and only the conditions given, and moves lastModified', async () => {
    const agent = randomUUID();
    const group = randomUUID();
    const created = (await stack.graphql(CREATE, { input: { name: 'gate agents', endpointIds: [gate], in: { agentIds: [agent] } } })).data.createEventFilters;

    const endpointsOnly = (await stack.graphql(UPDATE, { id: created.id, input: { endpointIds: [lobby] } })).data.updateEventFilters;
    const updated = (await stack.graphql(UPDATE, { id: created.id, input: { name: 'watchlist', in: { profileGroupIds: [group], agentIds: [] } } })).data.updateEventFilters;

    expect(endpointsOnly.endpoints).toEqual([{ id: lobby, name: 'lobby' }]);
    expect(Date.parse(endpointsOnly.lastModified)).toBeGreaterThan(Date.parse(created.lastModified));
    expect(updated).toMatchObject({
      name: 'watchlist',
      endpoints: [{ id: lobby, name: 'lobby' }],
      in: { cameraIds: [], agentIds: [], profileGroupIds: [group], eventTypes: [] },
      creationDate: created.creationDate,
    });
  });

  it('detaches a deleted endpoint from its filters; a filter left with none stays and says it routes nothing', async () => {
    const doomed = await stack.createWebsocketEndpoint('doomed');
    const created = (await stack.graphql(CREATE, { input: { name: 'only doomed', endpointIds: [doomed] } })).data.createEventFilters;

    await stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: doomed });

    const { data } = await stack.graphql(LIST, { filters: { id: { exact: created.id } } });
    expect(data.eventsFilters.collectionItems).toEqual([expect.objectContaining({ name: 'only doomed', endpoints: [], routesEvents: false })]);
  });

  it('lists with id filters, both orders and pagination, counting every match', async () => {
    const ids: string[] = [];
    for (const name of ['p1', 'p2', 'p3']) ids.push((await stack.graphql(CREATE, { input: { name } })).data.createEventFilters.id);
    await stack.graphql(UPDATE, { id: ids[0], input: { name: 'p1 renamed' } });

    const byCreation = await stack.graphql(LIST, { filters: { id: { in: ids } }, order: { creationDate: 'DESC' } });
    const byModification = await stack.graphql(LIST, { filters: { id: { in: ids } }, order: { lastModified: 'DESC' }, pagination: { offset: 0, limit: 2 } });
    const exact = await stack.graphql(LIST, { filters: { id: { exact: ids[1] } } });

    expect(byCreation.data.eventsFilters.collectionItems.map((item: any) => item.name)).toEqual(['p3', 'p2', 'p1 renamed']);
    expect(byModification.data.eventsFilters).toMatchObject({ totalCount: 3 });
    expect(byModification.data.eventsFilters.collectionItems.map((item: any) => item.name)).toEqual(['p1 renamed', 'p3']);
    expect(exact.data.eventsFilters.collectionItems.map((item: any) => item.id)).toEqual([ids[1]]);
  });

  it('deletes a filter; deleting it again is NOT_FOUND', async () => {
    const { id } = (await stack.graphql(CREATE, { input: { name: 'short-lived' } })).data.createEventFilters;

    expect((await stack.graphql('mutation($id: ID!) { deleteEventFilters(id: $id) }', { id })).data.deleteEventFilters).toBe(true);
    const again = await stack.graphql('mutation($id: ID!) { deleteEventFilters(id: $id) }', { id });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
  });
});
