import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { freshEvent } from './support/fixtures.js';
import { DATABASE_URL, TestStack } from './support/stack.js';

const ENV_AGENT_TOKEN = `env-agent-token-${randomUUID()}`;
/** The agent ENV_AGENT_TOKEN is bound to (AGENT_TOKENS: `<agent id>:<token>`). */
const ENV_AGENT = randomUUID();

/**
 * One minimal operation for every field of Query and Mutation. The first
 * test checks that this table names every field the schema has, so that a
 * new resolver cannot go without its scope being tested.
 */
const ID = '5b0c3f1e-3d5e-4c39-9f0e-6f1d7c1a2b3c';
const OPERATIONS: Record<string, { kind: 'query' | 'mutation'; text: string; readOnly: boolean }> = {
  endpoints: { kind: 'query', text: '{ endpoints { totalCount } }', readOnly: true },
  eventsFilters: { kind: 'query', text: '{ eventsFilters { totalCount } }', readOnly: true },
  lostEvents: { kind: 'query', text: '{ lostEvents { totalCount } }', readOnly: true },
  deliveryAttempts: { kind: 'query', text: '{ deliveryAttempts { totalCount } }', readOnly: true },
  webhookSecret: { kind: 'query', text: `{ webhookSecret(endpointId: "${ID}") { secret } }`, readOnly: false },
  apiTokens: { kind: 'query', text: '{ apiTokens { totalCount } }', readOnly: false },
  consumerLag: { kind: 'query', text: '{ consumerLag { consumer pending } }', readOnly: true },
  deadLetters: { kind: 'query', text: '{ deadLetters { totalCount } }', readOnly: true },
  resubmitDeadLetters: { kind: 'mutation', text: 'mutation { resubmitDeadLetters(filters: { id: { exact: "1" } }) }', readOnly: false },
  discardDeadLetters: { kind: 'mutation', text: 'mutation { discardDeadLetters(filters: { id: { exact: "1" } }) }', readOnly: false },
  upsertProfile: { kind: 'mutation', text: `mutation { upsertProfile(id: "${ID}", profileGroups: [{ id: "${ID}", color: "red.500" }]) }`, readOnly: false },
  deleteProfile: { kind: 'mutation', text: `mutation { deleteProfile(id: "${ID}") }`, readOnly: false },
  createWebSocketEndpoint: { kind: 'mutation', text: 'mutation { createWebSocketEndpoint(name: "scoped") { id } }', readOnly: false },
  createWebhookEndpoint: { kind: 'mutation', text: 'mutation { createWebhookEndpoint(name: "scoped", url: "http://127.0.0.1:9/hook") { id } }', readOnly: false },
  updateEndpoint: { kind: 'mutation', text: `mutation { updateEndpoint(id: "${ID}", name: "renamed") { id } }`, readOnly: false },
  pauseEndpoint: { kind: 'mutation', text: `mutation { pauseEndpoint(id: "${ID}") { id } }`, readOnly: false },
  resumeEndpoint: { kind: 'mutation', text: `mutation { resumeEndpoint(id: "${ID}") { id } }`, readOnly: false },
  deleteEndpoint: { kind: 'mutation', text: `mutation { deleteEndpoint(id: "${ID}") }`, readOnly: false },
  createEventFilters: { kind: 'mutation', text: 'mutation { createEventFilters(eventFiltersInput: { name: "scoped" }) { id } }', readOnly: false },
  updateEventFilters: { kind: 'mutation', text: `mutation { updateEventFilters(id: "${ID}", eventFiltersInput: { name: "renamed" }) { id } }`, readOnly: false },
  deleteEventFilters: { kind: 'mutation', text: `mutation { deleteEventFilters(id: "${ID}") }`, readOnly: false },
  resendDelivery: { kind: 'mutation', text: `mutation { resendDelivery(endpointId: "${ID}", eventId: "${ID}") }`, readOnly: false },
  startReplay: { kind: 'mutation', text: 'mutation { startReplay(input: { kind: REROUTE, from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z", dryRun: true }) { id } }', readOnly: false },
  cancelReplay: { kind: 'mutation', text: `mutation { cancelReplay(id: "${ID}") { id } }`, readOnly: false },
  replayJob: { kind: 'query', text: `{ replayJob(id: "${ID}") { id } }`, readOnly: true },
  replayJobs: { kind: 'query', text: '{ replayJobs { totalCount } }', readOnly: true },
  sendTestEvent: { kind: 'mutation', text: `mutation { sendTestEvent(endpointId: "${ID}") }`, readOnly: false },
  setWebSocketAccess: { kind: 'mutation', text: `mutation { setWebSocketAccess(endpointId: "${ID}", access: { requireToken: true }) { id } }`, readOnly: false },
  rotateWebSocketToken: { kind: 'mutation', text: `mutation { rotateWebSocketToken(endpointId: "${ID}") }`, readOnly: false },
  rotateWebhookSecret: { kind: 'mutation', text: `mutation { rotateWebhookSecret(endpointId: "${ID}") { secret } }`, readOnly: false },
  createApiToken: { kind: 'mutation', text: 'mutation { createApiToken(name: "made by scope test", scope: READ_ONLY) { token } }', readOnly: false },
  revokeApiToken: { kind: 'mutation', text: `mutation { revokeApiToken(id: "${ID}") { id } }`, readOnly: false },
  moveCamera: { kind: 'mutation', text: `mutation { moveCamera(cameraId: "${ID}", agentId: "${ID}") { agentId } }`, readOnly: false },
  agents: { kind: 'query', text: '{ agents { totalCount } }', readOnly: true },
  createAgent: { kind: 'mutation', text: `mutation { createAgent(agentId: "${randomUUID()}", name: "made by scope test") { token } }`, readOnly: false },
  rotateAgentCredentials: { kind: 'mutation', text: `mutation { rotateAgentCredentials(agentId: "${ID}") { token } }`, readOnly: false },
  revokeAgent: { kind: 'mutation', text: `mutation { revokeAgent(agentId: "${ID}") { id } }`, readOnly: false },
};

describe('API tokens: named, scoped, hashed, revocable', () => {
  let stack: TestStack;
  let database: pg.Client;

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
      // The resolver list is read by introspection.
      appEnv: { ingest: { AGENT_TOKENS: `${ENV_AGENT}:${ENV_AGENT_TOKEN}` }, api: { GRAPHQL_INTROSPECTION: 'true' } },
    });
    database = new pg.Client({ connectionString: DATABASE_URL });
    await database.connect();
  });

  afterAll(async () => {
    await database?.end();
    await stack?.stop();
  });

  async function createToken(name: string, scope: 'ADMIN' | 'AGENT' | 'READ_ONLY', agentIds?: string[]): Promise<{ id: string; token: string }> {
    const result = await stack.graphql(
      'mutation($name: String!, $scope: TokenScope!, $agentIds: [String!]) { createApiToken(name: $name, scope: $scope, agentIds: $agentIds) { token apiToken { id name scope agentIds } } }',
      { name, scope, agentIds },
    );
    expect(result.errors).toBeUndefined();
    const created = result.data.createApiToken;
    expect(created.apiToken).toMatchObject({ name, scope, agentIds: (agentIds ?? []).map((id) => id.toLowerCase()) });
    return { id: created.apiToken.id, token: created.token };
  }

  const codesOf = (result: { errors?: Array<{ extensions: Record<string, any> }> }): string[] => (result.errors ?? []).map((error) => error.extensions.code);

  it('lets each scope run what it may on every resolver, and refuses the rest with FORBIDDEN without running it', async () => {
    type Fields = { fields: Array<{ name: string }> };
    const schema = await stack.graphql<{ __schema: { queryType: Fields; mutationType: Fields } }>('{ __schema { queryType { fields { name } } mutationType { fields { name } } } }');
    const fields = [...schema.data.__schema.queryType.fields, ...schema.data.__schema.mutationType.fields].map((field: { name: string }) => field.name);
    expect(fields.sort()).toEqual(Object.keys(OPERATIONS).sort());

    const admin = await createToken('admin', 'ADMIN');
    const readOnly = await createToken('dashboard', 'READ_ONLY');
    const agent = await createToken('agent', 'AGENT', [randomUUID()]);
    const endpointsBefore = (await stack.graphql('{ endpoints { totalCount } }')).data.endpoints.totalCount;

    for (const [field, operation] of Object.entries(OPERATIONS)) {
      const asAdmin = codesOf(await stack.graphql(operation.text, {}, admin.token));
      expect({ field, codes: asAdmin.filter((code) => code === 'FORBIDDEN' || code === 'UNAUTHENTICATED') }).toEqual({ field, codes: [] });

      const asReadOnly = await stack.graphql(operation.text, {}, readOnly.token);
      if (operation.readOnly) {
        expect({ field, codes: codesOf(asReadOnly) }).toEqual({ field, codes: [] });
      } else {
        expect({ field, codes: codesOf(asReadOnly) }).toEqual({ field, codes: ['FORBIDDEN'] });
        expect((asReadOnly.data as unknown as Record<string, unknown> | null)?.[field] ?? null).toBeNull();
      }

      const asAgent = await fetch(stack.url('api', '/event-service/graphql'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', Authorization: `Bearer ${agent.token}` },
        body: JSON.stringify({ query: operation.text }),
      });
      expect({ field, status: asAgent.status }).toEqual({ field, status: 403 });
      expect(((await asAgent.json()) as any).errors[0].extensions.code).toBe('FORBIDDEN');
    }
    // The refused creations made nothing: only the admin's two endpoints are new.
    expect((await stack.graphql('{ endpoints { totalCount } }')).data.endpoints.totalCount).toBe(endpointsBefore + 2);

    // A webhook URL's path and query are often the receiver's credential: a READ_ONLY token sees the origin.
    const hook = await stack.graphql('mutation { createWebhookEndpoint(name: "chat", url: "http://127.0.0.1:9/services/T000/B000/s3cretPath?key=s3cretKey") { id meta { url } } }', {}, admin.token);
    expect(hook.data.createWebhookEndpoint.meta.url).toContain('s3cretKey');
    const seen = await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { meta { url } } } }', { id: hook.data.createWebhookEndpoint.id }, readOnly.token);
    expect(seen.data.endpoints.collectionItems[0].meta.url).toBe('http://127.0.0.1:9/…');
  });

  it('takes events from agent and admin tokens at ingest, within an agent token’s agents only, and refuses a read-only token', async () => {
    const [agentA, agentB] = [randomUUID(), randomUUID()];
    // Bound in upper case: ids compare case-insensitively.
    const bound = await createToken('camera A', 'AGENT', [agentA.toUpperCase()]);
    const both = await createToken('agents A and B', 'AGENT', [agentA, agentB]);
    const readOnly = await createToken('reader', 'READ_ONLY');
    const admin = await createToken('operator', 'ADMIN');
    const post = (token: string | null, agentId: string = agentA) => stack.postEvent(JSON.stringify(freshEvent({ agentId })), token);

    expect((await post(bound.token)).status).toBe(202);
    const other = await post(bound.token, agentB);
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ code: 'FORBIDDEN', field: 'camera.agent_id' });
    expect((await post(both.token, agentB)).status).toBe(202);
    // An agent id in another case is the same agent.
    expect((await post(bound.token, agentA.toUpperCase())).status).toBe(202);
    expect((await post(ENV_AGENT_TOKEN, ENV_AGENT)).status).toBe(202);
    const unbound = await post(ENV_AGENT_TOKEN, agentB);
    expect(unbound.status).toBe(403);
    expect(await unbound.json()).toMatchObject({ code: 'FORBIDDEN', field: 'camera.agent_id' });
    expect((await post(admin.token)).status).toBe(202);
    expect((await post(stack.token)).status).toBe(202);
    const refused = await post(readOnly.token);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'FORBIDDEN' });
    expect((await post('not-a-token-at-all')).status).toBe(401);
  });

  it('shows a token once, keeps only its hash, lists tokens without them, and refuses a revoked one everywhere once revokeApiToken returns', async () => {
    const agentId = randomUUID();
    const agent = await createToken('to revoke', 'AGENT', [agentId]);
    const reader = await createToken('reader to revoke', 'READ_ONLY');
    expect((await stack.postEvent(JSON.stringify(freshEvent({ agentId })), agent.token)).status).toBe(202);
    expect((await stack.graphql('{ endpoints { totalCount } }', {}, reader.token)).errors).toBeUndefined();

    const stored = await database.query(`SELECT * FROM ${stack.schema}.api_token WHERE id = $1`, [agent.id]);
    expect(stored.rows[0].token_hash).toBe(createHash('sha256').update(agent.token).digest('hex'));
    expect(JSON.stringify(stored.rows)).not.toContain(agent.token);
    const listed = await stack.graphql('{ apiTokens(pagination: { limit: 1000 }) { totalCount collectionItems { id name scope revokedAt } } }');
    expect(JSON.stringify(listed)).not.toContain(agent.token);
    expect(listed.data.apiTokens.collectionItems).toContainEqual({ id: agent.id, name: 'to revoke', scope: 'AGENT', revokedAt: null });

    for (const { id } of [agent, reader]) {
      const revoked = await stack.graphql('mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }', { id });
      expect(revoked.errors).toBeUndefined();
      expect(revoked.data.revokeApiToken.revokedAt).not.toBeNull();
    }
    // No waiting: the mutation returned once every api and ingest replica had applied it.
    expect((await stack.postEvent(JSON.stringify(freshEvent({ agentId })), agent.token)).status).toBe(401);
    const asReader = await fetch(stack.url('api', '/event-service/graphql'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', Token: reader.token },
      body: JSON.stringify({ query: '{ endpoints { totalCount } }' }),
    });
    expect(asReader.status).toBe(401);
    const again = await stack.graphql('{ apiTokens(pagination: { limit: 1000 }) { collectionItems { id revokedAt } } }');
    expect(again.data.apiTokens.collectionItems.find((item) => item.id === agent.id)).toMatchObject({ revokedAt: expect.any(String) });
  });

  it('refuses bad token input with the field at fault', async () => {
    const bound = await stack.graphql(`mutation { createApiToken(name: "reader", scope: READ_ONLY, agentIds: ["${randomUUID()}"]) { token } }`);
    expect(bound.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'agentIds' });
    const notAnId = await stack.graphql(`mutation { createApiToken(name: "agent", scope: AGENT, agentIds: ["${randomUUID()}", "camera-7"]) { token } }`);
    expect(notAnId.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'agentIds.1' });
    // An agent may be taken over: its token speaks for the agents it names, never for any.
    const unbound = await stack.graphql('mutation { createApiToken(name: "any agent", scope: AGENT) { token } }');
    expect(unbound.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'agentIds' });
    const unnamed = await stack.graphql('mutation { createApiToken(name: "  ", scope: ADMIN) { token } }');
    expect(unnamed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const unknown = await stack.graphql(`mutation { revokeApiToken(id: "${randomUUID()}") { id } }`);
    expect(unknown.errors?.[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('makes an agent with a token bound to it, counts what ingest accepted of it, rotates and revokes it; a token scoped to endpoints sees no agents', async () => {
    const agentId = randomUUID();
    const made = await stack.graphql(
      'mutation($id: ID!) { createAgent(agentId: $id, name: "door 4") { token natsCredentials natsSubject natsInboxPrefix agent { id name credentialsIssuedAt revokedAt } } }',
      { id: agentId.toUpperCase() },
    );
    expect(made.errors).toBeUndefined();
    const issued = made.data.createAgent;
    // NATS runs open here (AGENT_CREDENTIALS=none): the token alone is issued.
    expect(issued).toMatchObject({ natsCredentials: null, natsSubject: `${stack.prefix}.agents.${agentId}.events`, natsInboxPrefix: `_INBOX_${agentId}`, agent: { id: agentId, name: 'door 4', revokedAt: null } });
    const post = (token: string, agent = agentId) => stack.postEvent(JSON.stringify(freshEvent({ agentId: agent })), token);
    expect((await post(issued.token)).status).toBe(202);
    expect((await post(issued.token)).status).toBe(202);
    expect((await post(issued.token, randomUUID())).status).toBe(403);
    const listed = async (token?: string) => stack.graphql('{ agents { totalCount collectionItems { id lastEventAt eventsLastMinute revokedAt credentialsIssuedAt } } }', {}, token);
    const mine = async () => (await listed()).data.agents.collectionItems.find((agent: { id: string }) => agent.id === agentId);
    expect(await mine()).toMatchObject({ eventsLastMinute: 2, lastEventAt: expect.any(String) });
    const again = await stack.graphql('mutation($id: ID!) { createAgent(agentId: $id, name: "twice") { token } }', { id: agentId });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'agentId' });
    const notAnId = await stack.graphql('mutation { createAgent(agentId: "door-4", name: "x") { token } }');
    expect(notAnId.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'agentId' });

    // Rotated: the new token works, the old one is refused once the mutation returns.
    const rotated = await stack.graphql('mutation($id: ID!) { rotateAgentCredentials(agentId: $id) { token agent { credentialsIssuedAt } } }', { id: agentId });
    expect(rotated.errors).toBeUndefined();
    expect((await post(issued.token)).status).toBe(401);
    expect((await post(rotated.data.rotateAgentCredentials.token)).status).toBe(202);

    // Who may see agents: an unscoped READ_ONLY token does, one scoped to endpoints sees none.
    const reader = await createToken('agents reader', 'READ_ONLY');
    expect((await listed(reader.token)).data.agents.totalCount).toBeGreaterThan(0);
    const endpoint = await stack.createWebsocketEndpoint();
    const scoped = await stack.graphql('mutation($ids: [ID!]) { createApiToken(name: "scoped", scope: READ_ONLY, endpointIds: $ids) { token } }', { ids: [endpoint] });
    const refused = await listed(scoped.data.createApiToken.token);
    expect(refused.errors?.[0]?.extensions.code).toBe('FORBIDDEN');
    expect(refused.data?.agents ?? null).toBeNull();

    const revoked = await stack.graphql('mutation($id: ID!) { revokeAgent(agentId: $id) { id revokedAt } }', { id: agentId });
    expect(revoked.data.revokeAgent.revokedAt).toEqual(expect.any(String));
    expect((await post(rotated.data.rotateAgentCredentials.token)).status).toBe(401);
    const afterRevoke = await stack.graphql('mutation($id: ID!) { rotateAgentCredentials(agentId: $id) { token } }', { id: agentId });
    expect(afterRevoke.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'agentId' });
    expect((await mine())?.revokedAt).toEqual(expect.any(String));
  });

  it('answers a revocation as an error while a replica has not applied it, and as done once every replica has', async () => {
    const created = await stack.graphql('mutation { createApiToken(name: "leaving", scope: READ_ONLY) { token apiToken { id } } }');
    const { token, apiToken } = created.data.createApiToken;
    // A replica whose token watch has stopped: it answers the api's question, and never says it applied the revocation.
    const nats = await stack.natsClient();
    const { topology } = nats;
    const stalled = nats.connection.subscribe(topology.tokensApplied, {
      callback: (_error, message) => {
        const { id } = JSON.parse(new TextDecoder().decode(message.data)) as { id: string };
        nats.connection.publish(topology.barrierAnswer('ingest', id), JSON.stringify({ replica: 'stalled', applied: false }));
      },
    });
    try {
      const refused = await stack.graphql('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id: apiToken.id });
      expect(refused.errors?.[0]?.extensions.code).toBe('UNAVAILABLE');
      expect(refused.errors?.[0]?.message).toContain('1 replica(s) have not applied the revocation yet');
      // The revocation stands meanwhile: the replicas that applied it refuse the token.
      expect((await stack.graphql('{ endpoints { totalCount } }', {}, token)).errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    } finally {
      stalled.unsubscribe();
    }
    const confirmed = await stack.graphql('mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }', { id: apiToken.id });
    expect(confirmed.errors).toBeUndefined();
    expect(confirmed.data.revokeApiToken.revokedAt).toEqual(expect.any(String));
  });
});
