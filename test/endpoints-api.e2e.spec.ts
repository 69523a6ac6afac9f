import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestStack } from './support/stack.js';

const LIST = `query($filters: EndpointFilters, $order: EndpointOrder, $pagination: Pagination) {
  endpoints(filters: $filters, order: $order, pagination: $pagination) {
    totalCount
    collectionItems { id name type meta { url method } creationDate lastModified }
  }
}`;

describe('endpoints through GraphQL (OMNI names)', () => {
  let stack: TestStack;
  const ids: string[] = [];

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['api'] });
    for (const name of ['ws-1', 'ws-2', 'ws-3']) ids.push(await stack.createWebsocketEndpoint(name));
    for (const name of ['hook-1', 'hook-2']) {
      const result = await stack.graphql('mutation($name: String!) { createWebhookEndpoint(name: $name, url: "https://receiver.test/in", method: PUT) { id } }', { name });
      ids.push(result.data.createWebhookEndpoint.id);
    }
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('lists every endpoint oldest first, with its type and meta', async () => {
    const { data } = await stack.graphql(LIST);

    expect(data.endpoints.totalCount).toBe(5);
    expect(data.endpoints.collectionItems.map((item: any) => item.name)).toEqual(['ws-1', 'ws-2', 'ws-3', 'hook-1', 'hook-2']);
    expect(data.endpoints.collectionItems[0]).toMatchObject({ type: 'WEB_SOCKET', meta: { url: null, method: null } });
    expect(data.endpoints.collectionItems[3]).toMatchObject({ type: 'WEB_HOOK', meta: { url: 'https://receiver.test/in', method: 'PUT' } });
  });

  it('filters by id (exact and in) and by type, and orders newest first', async () => {
    const exact = await stack.graphql(LIST, { filters: { id: { exact: ids[1] } } });
    const some = await stack.graphql(LIST, { filters: { id: { in: [ids[0], ids[4]] } }, order: { creationDate: 'DESC' } });
    const hooks = await stack.graphql(LIST, { filters: { type: { exact: 'WEB_HOOK' } } });

    expect(exact.data.endpoints.collectionItems.map((item: any) => item.id)).toEqual([ids[1]]);
    expect(some.data.endpoints.collectionItems.map((item: any) => item.id)).toEqual([ids[4], ids[0]]);
    expect(hooks.data.endpoints).toMatchObject({ totalCount: 2 });
  });

  it('pages with offset and limit while totalCount counts every match', async () => {
    const page = await stack.graphql(LIST, { order: { creationDate: 'ASC' }, pagination: { offset: 1, limit: 2 } });

    expect(page.data.endpoints.totalCount).toBe(5);
    expect(page.data.endpoints.collectionItems.map((item: any) => item.name)).toEqual(['ws-2', 'ws-3']);
  });

  it('updates a name and a webhook target, moving lastModified, and refuses a url on a websocket endpoint', async () => {
    const before = (await stack.graphql(LIST, { filters: { id: { exact: ids[3] } } })).data.endpoints.collectionItems[0];

    const updated = await stack.graphql('mutation($id: ID!) { updateEndpoint(id: $id, name: "crm", url: "https://crm.test/events", method: PATCH) { name meta { url method } lastModified creationDate } }', { id: ids[3] });
    const refused = await stack.graphql('mutation($id: ID!) { updateEndpoint(id: $id, url: "https://crm.test") { id } }', { id: ids[0] });

    expect(updated.data.updateEndpoint).toMatchObject({ name: 'crm', meta: { url: 'https://crm.test/events', method: 'PATCH' }, creationDate: before.creationDate });
    expect(Date.parse(updated.data.updateEndpoint.lastModified)).toBeGreaterThan(Date.parse(before.lastModified));
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
  });

  it('deletes an endpoint so that it is no longer listed', async () => {
    await stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: ids[2] });

    const { data } = await stack.graphql(LIST, { filters: { id: { in: ids } } });
    expect(data.endpoints.totalCount).toBe(4);
    expect(data.endpoints.collectionItems.map((item: any) => item.id)).not.toContain(ids[2]);
  });

  it('accepts the token as Authorization: Bearer too', async () => {
    const response = await fetch(stack.url('api', '/event-service/graphql'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', Authorization: `Bearer ${stack.token}` },
      body: JSON.stringify({ query: '{ endpoints { totalCount } }' }),
    });
    expect(((await response.json()) as any).data.endpoints.totalCount).toBeGreaterThan(0);
  });
});
