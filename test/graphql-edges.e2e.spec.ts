import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

const INTROSPECTION = '{ __schema { queryType { name } types { name } } }';

/** What the GraphQL endpoint answers before running anything: who may ask, and how much. */
describe('the GraphQL API edges', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start({ apps: ['api'] });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function post(query: string, headers: Record<string, string>, path = '/event-service/graphql'): Promise<{ status: number; body: any }> {
    const response = await fetch(stack.url('api', path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, body: await response.json() };
  }

  it('answers nothing, introspection included, without a valid token; a bare __typename probe stays open', async () => {
    const attempts: Array<Record<string, string>> = [{}, { Token: 'wrong-token-wrong-token' }, { Authorization: 'Bearer wrong-token-wrong-token' }, { Authorization: `Basic ${stack.token}` }];
    for (const headers of attempts) {
      const refused = await post(INTROSPECTION, headers);
      expect(refused.status).toBe(401);
      expect(refused.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(refused.body)).not.toContain('queryType');
    }
    // A misspelt field tells nothing about the schema either (no "did you mean").
    expect(JSON.stringify((await post('{ endpointz { totalCount } }', {})).body)).not.toContain('endpoints');

    expect((await post('{ __typename }', {})).body).toEqual({ data: { __typename: 'Query' } });
    expect((await post('query Probe { __typename }', {})).body).toEqual({ data: { __typename: 'Query' } });
    // Introspection is off unless GRAPHQL_INTROSPECTION is set, even for a valid token (the schema is published as a file).
    const refused = await post(INTROSPECTION, { Authorization: `Bearer ${stack.token}` });
    expect(JSON.stringify(refused.body)).not.toContain('queryType');
    expect(refused.body.errors[0].message).toMatch(/introspection is not allowed/i);
  });

  it('answers no sub-path of the GraphQL endpoint without a valid token either', async () => {
    for (const path of ['/event-service/graphql/x', '/event-service/graphql/', '/event-service/graphql/a/b', '/event-service/graphql;x']) {
      const refused = await post(INTROSPECTION, {}, path);
      expect({ path, status: refused.status, schema: JSON.stringify(refused.body ?? null).includes('queryType') }).toEqual({ path, status: expect.any(Number), schema: false });
      expect({ path, ok: refused.status < 300 }).toEqual({ path, ok: false });
    }
  });

  it('checks an anonymous probe with no pattern over a long body: "query", 40,000 spaces and a letter is refused unread', async () => {
    const refused = await post(`query${' '.repeat(40_000)}x`, {});
    expect(refused.status).toBe(413);
    expect(refused.body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    // And the probe stays open beside it.
    expect((await post('{ __typename }', {})).body).toEqual({ data: { __typename: 'Query' } });
  });

  it('reads at most 1 KB of an anonymous body: a larger one is refused (413) while the rest of it is still unsent', async () => {
    const url = new URL(stack.url('api', '/event-service/graphql'));
    const outcome: { status?: number; sent: number } = { sent: 0 };
    const request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '10000000' } });
    request.on('response', (response) => {
      outcome.status = response.statusCode;
      response.resume();
    });
    request.on('error', () => undefined);
    const chunk = Buffer.alloc(2_048, 0x20);
    request.write(chunk);
    outcome.sent += chunk.length;
    // Nothing more is sent: the answer must come from what was.
    await waitFor(() => outcome.status, { what: 'the answer to the anonymous body' });
    request.destroy();
    expect(outcome).toEqual({ status: 413, sent: 2_048 });
    // A valid credential's body may be larger (here 50 KB of a real query).
    const padded = `{ endpoints { totalCount } }${' '.repeat(50_000)}`;
    expect((await post(padded, { Authorization: `Bearer ${stack.token}` })).body.data.endpoints.totalCount).toEqual(expect.any(Number));
  });

  it('refuses an operation nested too deep, with too many aliases or asking for too much, with a code and before running it', async () => {
    const headers = { Token: stack.token };
    let nested = 'id';
    for (let level = 0; level < 7; level += 1) nested = level % 2 === 0 ? `eventFilters { ${nested} }` : `endpoints { ${nested} }`;
    const deep = await post(`{ endpoints { collectionItems { ${nested} } } }`, headers);
    expect(deep.status).toBe(400);
    expect(deep.body.errors[0].extensions.code).toBe('QUERY_TOO_DEEP');
    expect(deep.body.data).toBeUndefined();

    const aliases = Array.from({ length: 500 }, (_, index) => `a${index}: endpoints(pagination: { limit: 1000 }) { totalCount }`).join(' ');
    const aliased = await post(`{ ${aliases} }`, headers);
    expect(aliased.body.errors[0].extensions.code).toBe('TOO_MANY_ALIASES');

    const costly = await post('{ endpoints(pagination: { limit: 1000 }) { collectionItems { id eventFilters { id endpoints { id eventFilters { id } } } } } }', headers);
    expect(costly.body.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');
    // The filters' own page counts as the endpoints' does.
    const costlyFilters = await post('{ eventsFilters(pagination: { limit: 1000 }) { collectionItems { id endpoints { id eventFilters { id endpoints { id } } } } } }', headers);
    expect(costlyFilters.body.errors[0].extensions.code).toBe('QUERY_TOO_COSTLY');

    // A page with its nested lists, within the limits, runs: each endpoint with its own filters.
    const endpointIds = [await stack.createWebsocketEndpoint('a'), await stack.createWebsocketEndpoint('b')];
    const filterId = await stack.createEventFilter({ endpointIds: [endpointIds[0]!] });
    const ordinary = await post('{ endpoints(pagination: { limit: 100 }) { collectionItems { id state eventFilters { id endpoints { id } } } } }', headers);
    expect(ordinary.body.errors).toBeUndefined();
    const byId = new Map(ordinary.body.data.endpoints.collectionItems.map((item: any) => [item.id, item]));
    expect(byId.get(endpointIds[0])).toEqual({ id: endpointIds[0], state: 'ACTIVE', eventFilters: [{ id: filterId, endpoints: [{ id: endpointIds[0] }] }] });
    expect(byId.get(endpointIds[1])).toEqual({ id: endpointIds[1], state: 'ACTIVE', eventFilters: [] });
  });
});
