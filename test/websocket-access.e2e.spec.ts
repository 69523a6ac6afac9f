import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshEvent } from './support/fixtures.js';
import { Receiver } from './support/receiver.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const TOKEN_REQUIRED = 'a connection token is required (subprotocol bearer.<token>, or the token query parameter)';

/** Who may connect to a websocket endpoint: its id alone by default; a token, browser origins and a cap when asked. */
describe('websocket access', () => {
  let stack: TestStack;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await Receiver.start();
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
  });

  async function setAccess(endpointId: string, access: Record<string, unknown>): Promise<void> {
    const result = await stack.graphql('mutation($id: ID!, $access: WebSocketAccessInput!) { setWebSocketAccess(endpointId: $id, access: $access) { id meta { access { requireToken allowedOrigins maxConnections } } } }', { id: endpointId, access });
    expect(result.errors).toBeUndefined();
  }

  async function apiToken(scope: string): Promise<string> {
    return (await namedToken(scope)).token;
  }

  async function namedToken(scope: string): Promise<{ id: string; token: string }> {
    const agentIds = scope === 'AGENT' ? `, agentIds: ["${randomUUID()}"]` : '';
    const result = await stack.graphql(`mutation { createApiToken(name: "ws ${scope}", scope: ${scope}${agentIds}) { token apiToken { id } } }`);
    return { id: result.data.createApiToken.apiToken.id as string, token: result.data.createApiToken.token as string };
  }

  it('refuses without a token, with a wrong one, from another origin and over the cap; admits the own token (subprotocol or query) and API tokens that read', async () => {
    const endpointId = await stack.createWebsocketEndpoint('guarded');
    await stack.waitForConfig();
    const url = stack.websocketUrl(endpointId);
    await setAccess(endpointId, { requireToken: true, allowedOrigins: ['https://app.example'], maxConnections: 3 });
    const rotated = await stack.graphql('mutation($id: ID!) { rotateWebSocketToken(endpointId: $id) }', { id: endpointId });
    const token = rotated.data.rotateWebSocketToken as string;
    const shown = await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { meta { hasOwnToken } } } }', { id: endpointId });
    expect(shown.data.endpoints.collectionItems[0].meta.hasOwnToken).toBe(true);
    expect(JSON.stringify(shown)).not.toContain(token);

    expect(await TestClient.refused(url)).toEqual({ code: 4401, reason: TOKEN_REQUIRED });
    expect(await TestClient.refused(`${url}&token=ewt_wrong`)).toEqual({ code: 4401, reason: 'the connection token is not valid' });
    expect(await TestClient.refused(`${url}&token=${await apiToken('AGENT')}`)).toEqual({ code: 4401, reason: 'the connection token is not valid' });
    expect(await TestClient.refused(url, { protocols: ['event-service', `bearer.${token}`], origin: 'https://evil.example' })).toEqual({ code: 4403, reason: 'origin not allowed' });

    const browser = await TestClient.connect(url, { protocols: ['event-service', `bearer.${token}`], origin: 'https://app.example' });
    expect(browser.socket.protocol).toBe('event-service');
    const service = await TestClient.connect(`${url}&token=${token}`);
    const reader = await namedToken('READ_ONLY');
    const dashboard = await TestClient.connect(`${url}&token=${reader.token}`);
    expect(await TestClient.refused(`${url}&token=${token}`)).toEqual({ code: 4429, reason: 'too many connections to this endpoint on this gateway; retry later' });

    const event = freshEvent();
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    for (const client of [browser, service, dashboard]) {
      await client.waitForEvents(1);
      expect(client.eventIds()).toEqual([event.event.id]);
    }

    // A rename changes nothing for them.
    expect((await stack.graphql('mutation($id: ID!) { updateEndpoint(id: $id, name: "renamed") { id } }', { id: endpointId })).errors).toBeUndefined();
    // A new token: the clients admitted with the old one are closed, the dashboard's API token still holds.
    const again = await stack.graphql('mutation($id: ID!) { rotateWebSocketToken(endpointId: $id) }', { id: endpointId });
    for (const client of [browser, service]) expect(await client.waitForClose()).toEqual({ code: 4401, reason: 'the connection token is not valid' });
    expect(await TestClient.refused(`${url}&token=${token}`)).toEqual({ code: 4401, reason: 'the connection token is not valid' });
    // Revoking the dashboard's API token closes the connection it admitted.
    expect(dashboard.closeEvent).toBeNull();
    expect((await stack.graphql('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id: reader.id })).errors).toBeUndefined();
    expect(await dashboard.waitForClose()).toEqual({ code: 4401, reason: 'the connection token was revoked' });
    const renewed = await TestClient.connect(`${url}&token=${again.data.rotateWebSocketToken}`);
    renewed.close();
    // The gateway never logs a query string, nor the tokens in it.
    for (const secret of [token, again.data.rotateWebSocketToken as string]) expect(stack.output('websocket-gateway')).not.toContain(secret);
  });

  it('admits anyone with the endpoint id by default, and refuses bad access input with the field at fault', async () => {
    const endpointId = await stack.createWebsocketEndpoint('open');
    await stack.waitForConfig();
    const client = await TestClient.connect(stack.websocketUrl(endpointId), { origin: 'https://anywhere.example' });
    expect(client.closeEvent).toBeNull();
    client.close();

    const bad = await stack.graphql('mutation($id: ID!) { setWebSocketAccess(endpointId: $id, access: { allowedOrigins: ["https://ok.example", "https://app.example/path"] }) { id } }', { id: endpointId });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'access.allowedOrigins.1' });
    const capped = await stack.graphql('mutation($id: ID!) { setWebSocketAccess(endpointId: $id, access: { maxConnections: 0 }) { id } }', { id: endpointId });
    expect(capped.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'access.maxConnections' });
  });

  it('gives a READ_ONLY token scoped to one integrator its endpoints, the filters naming them and their deliveries only, and nothing global', async () => {
    const guarded = async (name: string) => {
      const id = await stack.createWebsocketEndpoint(name);
      await setAccess(id, { requireToken: true });
      return id;
    };
    const [hookA, socketA, hookB, socketB] = [
      await stack.createWebhookEndpoint(receiver.url, 'integrator A hook'),
      await guarded('integrator A socket'),
      await stack.createWebhookEndpoint(receiver.url, 'integrator B hook'),
      await guarded('integrator B socket'),
    ];
    const camera = randomUUID();
    const shared = await stack.createEventFilter({ name: 'shared camera', endpointIds: [hookA, hookB, socketB], in: { cameraIds: [camera] } });
    const onlyB = await stack.createEventFilter({ name: 'B only', endpointIds: [socketB], in: { cameraIds: [randomUUID()] } });
    const created = await stack.graphql<{ createApiToken: { token: string; apiToken: { endpointIds: string[] } } }>(
      'mutation($ids: [ID!]) { createApiToken(name: "integrator A", scope: READ_ONLY, endpointIds: $ids) { token apiToken { endpointIds } } }',
      { ids: [hookA, socketA.toUpperCase()] },
    );
    expect(created.data.createApiToken.apiToken.endpointIds.sort()).toEqual([hookA, socketA].sort());
    const scoped = created.data.createApiToken.token;
    await stack.waitForConfig();
    const event = freshEvent();
    event.camera.id = camera;
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    const attemptsOf = async (token?: string, endpointId?: string) =>
      (await stack.graphql('query($id: ID) { deliveryAttempts(filters: { endpointId: { exact: $id } }) { collectionItems { endpointId eventId } } }', { id: endpointId ?? null }, token)).data.deliveryAttempts.collectionItems.filter(
        (attempt: { eventId: string }) => attempt.eventId === event.event.id,
      );
    await waitFor(async () => (await attemptsOf()).length === 2, { what: 'both hooks to be delivered the event' });

    const answers = {
      endpoints: await stack.graphql('{ endpoints { totalCount collectionItems { id } } }', {}, scoped),
      askedForB: await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { totalCount } }', { id: hookB }, scoped),
      filters: await stack.graphql('{ eventsFilters { collectionItems { id routesEvents endpoints { id } } } }', {}, scoped),
      filtersOfHook: await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { eventFilters { id endpoints { id } } } } }', { id: hookA }, scoped),
      attempts: await attemptsOf(scoped),
      attemptsOfB: await attemptsOf(scoped, hookB),
    };
    expect(answers.endpoints.data.endpoints.collectionItems.map((endpoint: { id: string }) => endpoint.id).sort()).toEqual([hookA, socketA].sort());
    expect(answers.askedForB.data.endpoints.totalCount).toBe(0);
    expect(answers.filters.data.eventsFilters.collectionItems).toEqual([{ id: shared, routesEvents: true, endpoints: [{ id: hookA }] }]);
    expect(answers.filtersOfHook.data.endpoints.collectionItems[0].eventFilters).toEqual([{ id: shared, endpoints: [{ id: hookA }] }]);
    expect(answers.attempts).toEqual([{ endpointId: hookA, eventId: event.event.id }]);
    expect(answers.attemptsOfB).toEqual([]);
    // Another integrator's endpoints and filters are named nowhere in what the scoped token read.
    for (const other of [hookB, socketB, onlyB]) expect(JSON.stringify(answers)).not.toContain(other);

    const lost = await stack.graphql('{ lostEvents { totalCount } }', {}, scoped);
    expect(lost.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    const image = (token: string) => fetch(stack.url('api', `/event-service/get-image/${randomUUID()}`), { headers: { Token: token } });
    expect((await image(scoped)).status).toBe(401);
    expect((await image(stack.token)).status).toBe(404);

    const own = await TestClient.connect(`${stack.websocketUrl(socketA)}&token=${scoped}`);
    expect(await TestClient.refused(`${stack.websocketUrl(socketB)}&token=${scoped}`)).toEqual({ code: 4401, reason: 'the connection token is not valid' });
    expect(own.closeEvent).toBeNull();
    own.close();

    // A token scoped to an endpoint that is deleted reads nothing, never everything.
    const doomed = await stack.createWebsocketEndpoint('doomed');
    const orphan = await stack.graphql('mutation($ids: [ID!]) { createApiToken(name: "orphan", scope: READ_ONLY, endpointIds: $ids) { token } }', { ids: [doomed] });
    expect((await stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: doomed })).errors).toBeUndefined();
    const afterDelete = await stack.graphql('{ endpoints { totalCount } eventsFilters { totalCount } deliveryAttempts { totalCount } }', {}, orphan.data.createApiToken.token);
    expect(afterDelete.data).toEqual({ endpoints: { totalCount: 0 }, eventsFilters: { totalCount: 0 }, deliveryAttempts: { totalCount: 0 } });

    for (const [args, message] of [
      [`scope: AGENT, agentIds: ["${randomUUID()}"], endpointIds: ["${hookA}"]`, 'only a READ_ONLY token is scoped to endpoints'],
      ['scope: READ_ONLY, endpointIds: []', 'a scoped token names at least one endpoint (omit endpointIds for every endpoint)'],
      [`scope: READ_ONLY, endpointIds: ["${hookA}", "${doomed}"]`, `unknown endpoint ids: ${doomed}`],
    ]) {
      const refused = await stack.graphql(`mutation { createApiToken(name: "bad", ${args}) { token } }`);
      expect(refused.errors?.[0]).toMatchObject({ message: `endpointIds: ${message}`, extensions: { code: 'BAD_USER_INPUT', field: 'endpointIds' } });
    }
  });
});
