import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, ISSUER_FILES, NatsClient, type IssuedCredentials, type IssuerReply, type OperatorAccounts } from '@app/messaging';
import { NatsSink } from '@app/simulator';
import type { AppProcess } from './support/app-process.js';
import { freshEvent } from './support/fixtures.js';
import { expectRefused, expectRefusedSubscription, replySubjectsInside, snapshotStreams } from './support/nats-attack.js';
import type { OwnNatsServer } from './support/nats-server.js';
import { startOperatorServer } from './support/operator-stack.js';
import { waitFor } from './support/wait.js';

const encoder = new TextEncoder();

/**
 * NATS operator mode as `npm run nats:operator` sets it up from the shipped
 * layout: a nats-server of this test's own with the generated operator, its
 * accounts and a full resolver, and the credentials issuer
 * (apps/credentials-issuer) asked as the api asks it. An issued agent may
 * publish its own subject and read its own inbox, nothing else whatever the
 * reply subjects of its publishes; a revocation is in force, and the agent's
 * connections closed, once the issuer answers, while other agents go on.
 */
describe("agents' NATS credentials in operator mode", () => {
  const dir = mkdtempSync(join(tmpdir(), 'event-service-operator-'));
  const connections: NatsConnection[] = [];
  const sinks: NatsSink[] = [];
  let server: OwnNatsServer;
  let issuer: AppProcess;
  let ops: NatsClient;
  let api: NatsConnection;
  let system: NatsConnection;
  let accounts: OperatorAccounts;

  const credsOf = (user: string) => readFileSync(join(dir, 'creds', `${user}.creds`));
  const track = (connection: NatsConnection) => (connections.push(connection), connection);

  beforeAll(async () => {
    const started = await startOperatorServer(dir);
    ({ server, issuer } = started);
    const { setup } = started;
    ops = await NatsClient.connect({ url: server.url, prefix: 'es', streamMaxAgeMs: 3_600_000, duplicateWindowMs: 60_000, connectionName: 'ops', auth: { credsFile: join(dir, 'creds', 'ops.creds') } });
    await ensureStreams(ops);
    api = track(await connect({ servers: server.url, authenticator: credsAuthenticator(credsOf('api')), inboxPrefix: '_INBOX_api', name: 'api' }));
    // The issuer's system user, as the issuer has it: it may list the agents account's connections.
    accounts = JSON.parse(readFileSync(join(setup.issuerDir, ISSUER_FILES.accounts), 'utf8')) as OperatorAccounts;
    system = track(await connect({ servers: server.url, authenticator: credsAuthenticator(readFileSync(join(setup.issuerDir, ISSUER_FILES.systemCreds))), name: 'system' }));
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close().catch(() => undefined)));
    await Promise.all(sinks.map((sink) => sink.close().catch(() => undefined)));
    await ops?.close();
    await issuer?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Asks the issuer as the api does; waits for it to answer (it may still be starting). */
  async function ask<T>(verb: 'issue' | 'revoke', body: object): Promise<T> {
    const reply = await waitFor(
      async () => {
        try {
          return (await api.request(`es.issuer.agents.${verb}`, JSON.stringify(body), { timeout: 30_000 })).json<IssuerReply<T>>();
        } catch (error) {
          if (issuer.exitError) throw issuer.exitError;
          // No responder yet: the issuer is starting.
          return /no responders/i.test(String((error as Error).cause ?? error)) ? null : Promise.reject(error);
        }
      },
      { what: `the credentials issuer to answer ${verb}`, timeoutMs: 30_000 },
    );
    if (!reply.ok) throw new Error(`issuer refused: ${reply.error}`);
    return reply;
  }

  const issue = (agentId: string) => ask<IssuedCredentials>('issue', { agentId, name: `agent ${agentId.slice(0, 8)}` });
  const connectAgent = async (agentId: string, creds: string, options: { reconnect?: boolean } = {}) =>
    track(await connect({ servers: server.url, authenticator: credsAuthenticator(encoder.encode(creds)), inboxPrefix: `_INBOX_${agentId}`, name: `agent-${agentId}`, ...options }));
  // With the event's id as its message id, as agents publish: a publish the client sends again (after a reconnect while
  // the server took a revocation) is stored once.
  const publishEvent = (connection: NatsConnection, agentId: string) => {
    const event = freshEvent({ agentId });
    return jetstream(connection).publish(`es.agents.${agentId}.events`, encoder.encode(JSON.stringify(event)), { msgID: event.event.id });
  };

  it('issues a user that may publish its own subject and read its own inbox, nothing else, and whose publishes change nothing inside whatever their reply subject', async () => {
    const agentId = randomUUID();
    const otherAgentId = randomUUID();
    const issued = await issue(agentId);
    expect(issued.userKey).toMatch(/^U[A-Z2-7]{55}$/);
    const connection = await connectAgent(agentId, issued.creds);

    // Its own events, acked through its inbox.
    expect(await publishEvent(connection, agentId)).toMatchObject({ stream: 'ES_INGRESS', duplicate: false });
    await expectRefused(publishEvent(connection, otherAgentId), `es.agents.${otherAgentId}.events`);
    await expectRefused(jetstream(connection).publish('es.events.profiles.deleted', encoder.encode(JSON.stringify({ id: randomUUID() }))), 'es.events.profiles.deleted');
    // Nor ask the issuer for credentials.
    await expectRefused(connection.request('es.issuer.agents.issue', JSON.stringify({ agentId: otherAgentId, name: 'stolen' })), 'es.issuer.agents.issue');
    await expectRefusedSubscription(connection, `_INBOX_${otherAgentId}.>`);
    await expectRefusedSubscription(connection, '_INBOX.>');
    await expectRefusedSubscription(connection, 'es.>');
    await expectRefusedSubscription(connection, '$SYS.>');

    // Every subject inside as the reply of a publish: only the agent's own events are added, to the ingress, and
    // nothing reaches any other subject of the service's account (an ack, a bucket, an app's inbox, the issuer).
    const before = await snapshotStreams(ops.manager);
    const inside: string[] = [];
    const watcher = ops.connection.subscribe('>', { callback: (_error, message) => void inside.push(message.subject) });
    await ops.connection.flush();
    let sent = 0;
    for (const reply of replySubjectsInside('es')) {
      connection.publish(`es.agents.${agentId}.events`, encoder.encode(JSON.stringify(freshEvent({ agentId }))), { reply });
      // The server drops a client's message whose reply is a JetStream ack subject.
      if (!reply.startsWith('$JS.ACK.')) sent += 1;
    }
    await connection.flush();
    const own = () => inside.filter((subject) => subject === `es.agents.${agentId}.events`).length;
    await waitFor(() => own() >= sent, { what: `the agent's ${sent} publishes inside` });
    await ops.connection.flush();
    watcher.unsubscribe();
    // Besides its subject, only the answers to its publishes' requests (JetStream's acks, on the service import's `_R_.` replies).
    expect(inside.filter((subject) => subject !== `es.agents.${agentId}.events` && !subject.startsWith('_R_.'))).toEqual([]);
    const ingress = before.ES_INGRESS!.state;
    await waitFor(async () => (await ops.manager.streams.info('ES_INGRESS')).state.last_seq >= ingress.last_seq + sent, { what: `the agent's ${sent} events in the ingress` });
    const after = await snapshotStreams(ops.manager);
    const expected = structuredClone(before);
    expected.ES_INGRESS!.state = { ...after.ES_INGRESS!.state, first_seq: ingress.first_seq, last_seq: ingress.last_seq + sent, messages: ingress.messages + sent, num_deleted: ingress.num_deleted };
    expect(after).toEqual(expected);
    for (let seq = ingress.last_seq + 1; seq <= after.ES_INGRESS!.state.last_seq; seq += 1) {
      expect((await ops.manager.streams.getMessage('ES_INGRESS', { seq }))!.subject).toBe(`es.agents.${agentId}.events`);
    }
  });

  it('revokes: once the issuer answers, a new connection is refused, the open one was closed and publishes nothing more, and another agent publishes throughout', async () => {
    const [leaving, staying] = [randomUUID(), randomUUID()];
    const [revoked, kept] = await Promise.all([issue(leaving), issue(staying)]);
    const open = await connectAgent(leaving, revoked.creds);
    const statuses: string[] = [];
    void (async () => {
      for await (const status of open.status()) statuses.push(status.type);
    })();
    // The other agent publishes as the simulator does (libs/simulator's NATS sink, the event id as the message id).
    const other = await NatsSink.open({ servers: server.url, authenticator: credsAuthenticator(encoder.encode(kept.creds)), inboxPrefix: `_INBOX_${staying}` }, 'es');
    sinks.push(other);
    const publishOthers = () => {
      const event = freshEvent({ agentId: staying });
      return other.event(staying, JSON.stringify(event), event.event.id);
    };
    expect(await publishEvent(open, leaving)).toMatchObject({ stream: 'ES_INGRESS' });

    // The other agent publishes all along, and every one of its events is stored once. A server taking the agents
    // account's update replaces the subscriptions behind the account's imports, and a publish caught between the old
    // and the new reaches no stream: it is answered "no responders" and nothing is stored, so the agent sends it again
    // (docs/operations.md), as the sink does.
    let publishing = true;
    const othersAcks: Promise<unknown>[] = [];
    const othersLoop = (async () => {
      while (publishing) {
        othersAcks.push(publishOthers());
        await othersAcks.at(-1);
      }
    })();
    await ask('revoke', { agentId: leaving, userKeys: [revoked.userKey] });
    // Right as the issuer answers, the server lists no connection of the revoked user (the other's is there).
    const listed = (await system.request(`$SYS.REQ.ACCOUNT.${accounts.accounts.AGENTS}.CONNZ`, JSON.stringify({ auth: true }))).json<{
      data: { connections: Array<{ authorized_user?: string }> };
    }>();
    const users = listed.data.connections.map((connection) => connection.authorized_user);
    expect(users).toContain(kept.userKey);
    expect(users).not.toContain(revoked.userKey);
    const storedOf = async (agentId: string) =>
      (await ops.manager.streams.info('ES_INGRESS', { subjects_filter: `es.agents.${agentId}.events` })).state.subjects?.[`es.agents.${agentId}.events`] ?? 0;
    const storedBefore = await storedOf(leaving);

    await expect(connectAgent(leaving, revoked.creds, { reconnect: false })).rejects.toThrow(/authorization/i);
    // The server closed the open connection when it took the revocation: the client saw it go.
    await waitFor(() => statuses.includes('disconnect') || open.isClosed(), { what: "the revoked agent's open connection to be closed", timeoutMs: 30_000 });
    const late = await jetstream(open)
      .publish(`es.agents.${leaving}.events`, encoder.encode(JSON.stringify(freshEvent({ agentId: leaving }))), { timeout: 1_000 })
      .then(
        () => 'accepted',
        () => 'refused',
      );
    expect(late).toBe('refused');
    publishing = false;
    await othersLoop;
    await Promise.all(othersAcks);
    await publishOthers();
    // Nothing of the revoked agent's was stored after the revocation returned; the other's all were.
    expect(await storedOf(leaving)).toBe(storedBefore);
    expect(await storedOf(staying)).toBe(othersAcks.length + 1);
  }, 120_000);

  it('refuses requests that would sign another subject, or revoke what is no key, and the system user anything but the agents account', async () => {
    const refusal = async (verb: 'issue' | 'revoke', body: object) => (await api.request(`es.issuer.agents.${verb}`, JSON.stringify(body), { timeout: 10_000 })).json<IssuerReply<object>>();
    await ask('issue', { agentId: randomUUID(), name: 'warm-up' });
    // A wildcard or another spelling of an id would name other agents' subjects.
    for (const agentId of ['*', '>', randomUUID().toUpperCase(), `${randomUUID()}.x`, '']) {
      expect([agentId, await refusal('issue', { agentId, name: 'x' })]).toEqual([agentId, { ok: false, error: 'agentId must be a lower-case UUID' }]);
    }
    expect(await refusal('issue', { agentId: randomUUID(), name: 'n'.repeat(201) })).toMatchObject({ ok: false });
    expect(await refusal('revoke', { userKeys: ['*'] })).toMatchObject({ ok: false, error: 'userKeys must be user public keys (U…)' });
    expect(await refusal('revoke', { userKeys: [] })).toMatchObject({ ok: false });
    // The issuer's system user cannot push another account's JWT, nor read the service account's connections.
    await expectRefused(system.request(`$SYS.REQ.ACCOUNT.${accounts.accounts.EVENT_SERVICE}.CLAIMS.UPDATE`, 'x'), `$SYS.REQ.ACCOUNT.${accounts.accounts.EVENT_SERVICE}.CLAIMS.UPDATE`);
    await expectRefused(system.request('$SYS.REQ.CLAIMS.UPDATE', 'x'), '$SYS.REQ.CLAIMS.UPDATE');
    await expectRefused(system.request(`$SYS.REQ.ACCOUNT.${accounts.accounts.EVENT_SERVICE}.CONNZ`, '{}'), `$SYS.REQ.ACCOUNT.${accounts.accounts.EVENT_SERVICE}.CONNZ`);
  });
});
