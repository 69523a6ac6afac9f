import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encodeAccount, type Account } from '@nats-io/jwt';
import { fromSeed } from '@nats-io/nkeys';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { ISSUER_FILES, type OperatorAccounts } from '@app/messaging';
import { NatsSink } from '@app/simulator';
import { freshEvent } from './support/fixtures.js';
import { OperatorStack } from './support/operator-stack.js';
import type { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const encoder = new TextEncoder();

interface Issued {
  token: string;
  natsCredentials: string;
  natsSubject: string;
  natsInboxPrefix: string;
  agent: { id: string; natsUserKey: string };
}

/**
 * Agents onboard and leave through the api alone, on NATS in operator mode
 * (every app a JWT user, the credentials issuer beside them): createAgent's
 * credentials carry an agent's events through the whole pipeline;
 * revokeAgent returns once NATS refuses them and has closed their
 * connection, while another agent's events keep arriving; rotation swaps an
 * agent's credentials; the agents query shows what each did.
 */
describe('agents issued through the api, on NATS in operator mode', () => {
  let operator: OperatorStack;
  let stack: TestStack;

  beforeAll(async () => {
    // The api confirms the revoked users every second (AgentRevocations), as it does every CONFIG_RECONCILE_INTERVAL.
    operator = await OperatorStack.start({}, { api: { CONFIG_RECONCILE_INTERVAL: '1s' } });
    stack = operator.stack;
  });

  const sinks: NatsSink[] = [];

  afterAll(async () => {
    await Promise.all(sinks.map((sink) => sink.close().catch(() => undefined)));
    await operator?.stop();
  });

  async function createAgent(name: string): Promise<Issued> {
    const agentId = randomUUID();
    const result = await waitFor(
      async () => {
        const made = await stack.graphql(
          'mutation($id: ID!, $name: String!) { createAgent(agentId: $id, name: $name) { token natsCredentials natsSubject natsInboxPrefix agent { id natsUserKey } } }',
          { id: agentId, name },
        );
        // The issuer may still be starting: the api says so, and nothing was made.
        if (made.errors?.[0]?.extensions.code === 'UNAVAILABLE') return null;
        if (made.errors) throw new Error(JSON.stringify(made.errors));
        return made.data.createAgent as Issued;
      },
      { what: 'createAgent to issue credentials', timeoutMs: 30_000 },
    );
    expect(result.natsCredentials).toContain('-----BEGIN NATS USER JWT-----');
    return result;
  }

  /** The users of the agents account's open connections, as the server lists them (the issuer's system user). */
  async function connectedUsers(): Promise<string[]> {
    const read = (file: string) => readFileSync(join(operator.issuerDir, file));
    const accounts = JSON.parse(read(ISSUER_FILES.accounts).toString('utf8')) as OperatorAccounts;
    const system = await connect({ servers: operator.server.url, authenticator: credsAuthenticator(read(ISSUER_FILES.systemCreds)) });
    try {
      const listed = (await system.request(`$SYS.REQ.ACCOUNT.${accounts.accounts.AGENTS}.CONNZ`, JSON.stringify({ auth: true }))).json<{ data: { connections: Array<{ authorized_user?: string }> } }>();
      return listed.data.connections.map((connection) => connection.authorized_user ?? '');
    } finally {
      await system.close();
    }
  }

  const publish = (connection: NatsConnection, issued: Issued) => {
    const event = freshEvent({ agentId: issued.agent.id });
    return jetstream(connection)
      .publish(issued.natsSubject, encoder.encode(JSON.stringify(event)), { timeout: 2_000 })
      .then(() => event.event.id);
  };

  it('carries an agent’s events through the pipeline on its issued credentials, refuses them once revokeAgent returns, and keeps another agent going throughout', async () => {
    const [leaving, staying] = [await createAgent('gate 1'), await createAgent('gate 2')];
    const endpoint = await stack.createWebsocketEndpoint();
    await stack.createEventFilter({ endpointIds: [endpoint], in: { agentIds: [leaving.agent.id, staying.agent.id] } });
    await stack.waitForConfig();
    const client = await TestClient.connect(stack.websocketUrl(endpoint));

    const open = await operator.connectWith(leaving.natsCredentials, leaving.natsInboxPrefix);
    const statuses: string[] = [];
    void (async () => {
      for await (const status of open.status()) statuses.push(status.type);
    })();
    // The other agent publishes as the simulator does: its NATS sink sends again a publish answered "no responders", as
    // one may be in the instant a server takes the revocation (docs/operations.md, Rotation and revocation).
    const other = await NatsSink.open({ servers: operator.server.url, authenticator: credsAuthenticator(encoder.encode(staying.natsCredentials)), inboxPrefix: staying.natsInboxPrefix }, 'es');
    sinks.push(other);
    const publishOther = async () => {
      const event = freshEvent({ agentId: staying.agent.id });
      await other.event(staying.agent.id, JSON.stringify(event), event.event.id);
      return event.event.id;
    };
    const sent = [await publish(open, leaving), await publishOther()];
    await client.waitForEvents(2);
    expect(client.eventIds().sort()).toEqual([...sent].sort());

    // The other agent publishes all along, each event acked before the next.
    let publishing = true;
    const othersEvents: string[] = [];
    const othersLoop = (async () => {
      while (publishing) othersEvents.push(await publishOther());
    })();
    const revoked = await stack.graphql('mutation($id: ID!) { revokeAgent(agentId: $id) { id revokedAt } }', { id: leaving.agent.id });
    expect(revoked.errors).toBeUndefined();
    expect(revoked.data.revokeAgent.revokedAt).toEqual(expect.any(String));
    // As revokeAgent returns, the server lists no connection of the revoked agent's user; the other's is there.
    const users = await connectedUsers();
    expect(users).toContain(staying.agent.natsUserKey);
    expect(users).not.toContain(leaving.agent.natsUserKey);

    await expect(operator.connectWith(leaving.natsCredentials, leaving.natsInboxPrefix, { reconnect: false })).rejects.toThrow(/authorization/i);
    await waitFor(() => statuses.includes('disconnect') || open.isClosed(), { what: "the revoked agent's open connection to be closed", timeoutMs: 30_000 });
    const late = await publish(open, leaving).then(
      () => 'accepted',
      () => 'refused',
    );
    expect(late).toBe('refused');
    // Its HTTP token went with it.
    expect((await stack.postEvent(JSON.stringify(freshEvent({ agentId: leaving.agent.id })), leaving.token)).status).toBe(401);
    publishing = false;
    await othersLoop;
    othersEvents.push(await publishOther());
    // Everything the other agent published arrived, and nothing more of the revoked one's.
    await client.waitForEvents(2 + othersEvents.length, 60_000);
    expect(client.eventIds().sort()).toEqual([...sent, ...othersEvents].sort());

    // The agents query: both, the revoked one as such, each with what ingest accepted of it.
    const listed = await stack.graphql('{ agents { collectionItems { id revokedAt lastEventAt eventsLastMinute } } }');
    const byId = new Map(listed.data.agents.collectionItems.map((agent: { id: string }) => [agent.id, agent]));
    expect(byId.get(leaving.agent.id)).toMatchObject({ revokedAt: expect.any(String), lastEventAt: expect.any(String), eventsLastMinute: 1 });
    expect(byId.get(staying.agent.id)).toMatchObject({ revokedAt: null, lastEventAt: expect.any(String), eventsLastMinute: 1 + othersEvents.length });
    client.close();
  }, 120_000);

  it('rotates an agent’s credentials: the new ones publish, the old ones are refused and their connection closed once the mutation returns', async () => {
    const agent = await createAgent('gate 3');
    const old = await operator.connectWith(agent.natsCredentials, agent.natsInboxPrefix);
    const statuses: string[] = [];
    void (async () => {
      for await (const status of old.status()) statuses.push(status.type);
    })();
    await publish(old, agent);
    const rotated = await stack.graphql('mutation($id: ID!) { rotateAgentCredentials(agentId: $id) { token natsCredentials natsSubject natsInboxPrefix agent { id natsUserKey } } }', { id: agent.agent.id });
    expect(rotated.errors).toBeUndefined();
    const renewed = rotated.data.rotateAgentCredentials as Issued;
    expect(renewed.agent.natsUserKey).not.toBe(agent.agent.natsUserKey);
    expect(await connectedUsers()).not.toContain(agent.agent.natsUserKey);
    await expect(operator.connectWith(agent.natsCredentials, agent.natsInboxPrefix, { reconnect: false })).rejects.toThrow(/authorization/i);
    await waitFor(() => statuses.includes('disconnect') || old.isClosed(), { what: 'the old credentials’ connection to be closed', timeoutMs: 30_000 });
    const fresh = await operator.connectWith(renewed.natsCredentials, renewed.natsInboxPrefix);
    await expect(publish(fresh, renewed)).resolves.toEqual(expect.any(String));
    expect((await stack.postEvent(JSON.stringify(freshEvent({ agentId: agent.agent.id })), renewed.token)).status).toBe(202);
    expect((await stack.postEvent(JSON.stringify(freshEvent({ agentId: agent.agent.id })), agent.token)).status).toBe(401);
  }, 120_000);

  it('revokes again a user the server’s agents account lost (an older set-up’s account pushed over it), at the api’s next reconcile', async () => {
    const agent = await createAgent('gate 4');
    expect((await stack.graphql('mutation($id: ID!) { revokeAgent(agentId: $id) { id } }', { id: agent.agent.id })).errors).toBeUndefined();
    await expect(operator.connectWith(agent.natsCredentials, agent.natsInboxPrefix, { reconnect: false })).rejects.toThrow(/authorization/i);

    // The agents account signed again without its revocations, and pushed: the server takes the agent back.
    const read = (file: string) => readFileSync(join(operator.issuerDir, file));
    const accounts = JSON.parse(read(ISSUER_FILES.accounts).toString('utf8')) as OperatorAccounts;
    const system = await connect({ servers: operator.server.url, authenticator: credsAuthenticator(read(ISSUER_FILES.systemCreds)) });
    try {
      const lookup = `$SYS.REQ.ACCOUNT.${accounts.accounts.AGENTS}.CLAIMS.LOOKUP`;
      const current = decode<Account>((await system.request(lookup, '')).string());
      expect(current.nats.revocations?.[agent.agent.natsUserKey]).toEqual(expect.any(Number));
      const { revocations: _dropped, type: _type, version: _version, ...claims } = current.nats as Account & { type?: string; version?: number };
      const operatorSigner = fromSeed(new TextEncoder().encode(read(ISSUER_FILES.operatorSigningKey).toString('utf8').trim()));
      // A second later: the resolver keeps only a JWT newer than the one it holds.
      await waitFor(() => Math.floor(Date.now() / 1_000) > current.iat, { what: 'the next second' });
      const forgetful = await encodeAccount(current.name, accounts.accounts.AGENTS!, claims, { signer: operatorSigner });
      expect((await system.request(`$SYS.REQ.ACCOUNT.${accounts.accounts.AGENTS}.CLAIMS.UPDATE`, forgetful)).json<{ data?: { code: number } }>().data?.code).toBe(200);
      // The server takes the agent back until the api's next reconcile (every second here) revokes it again: a
      // connection made in between (there may be none, should the reconcile come first) is closed by it.
      const back = await operator.connectWith(agent.natsCredentials, agent.natsInboxPrefix, { reconnect: false }).catch(() => null);
      // Revoked again in an account JWT signed after the forgetful one (not the one it replaced).
      const forgotAt = decode<Account>(forgetful).iat;
      const revoked = async () => {
        const now = decode<Account>((await system.request(lookup, '')).string());
        return now.iat >= forgotAt && now.nats.revocations?.[agent.agent.natsUserKey] !== undefined;
      };
      await waitFor(revoked, { what: 'the reconcile to push the revocation again', timeoutMs: 15_000 });
      if (back) await waitFor(() => back.isClosed(), { what: 'the reconcile to close the agent’s connection again', timeoutMs: 15_000 });
      await expect(operator.connectWith(agent.natsCredentials, agent.natsInboxPrefix, { reconnect: false })).rejects.toThrow(/authorization/i);
    } finally {
      await system.close();
    }
  });

  it('refused no app anything: every app ran on its generated credentials without a permission violation', async () => {
    // Run last: an app's refused request shows in the server's log even when the app coped with it.
    const violations = readFileSync(operator.logFile, 'utf8').split('\n').filter((line) => line.includes('Violation'));
    expect(violations).toEqual([]);
  });
});
