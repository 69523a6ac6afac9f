import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshEvent } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { TestClient } from './support/ws-client.js';

const TOKEN_REQUIRED = 'a connection token is required (subprotocol bearer.<token>, or the token query parameter)';

/** Who may connect to a websocket endpoint: its id alone by default; a token, browser origins and a cap when asked. */
describe('websocket access', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await TestStack.start();
  });

  afterAll(async () => {
    await stack?.stop();
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
});
