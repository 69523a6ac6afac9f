import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { jetstream } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { freshEvent } from './support/fixtures.js';
import { attackHeaders, replySubjectsInside, snapshotStreams } from './support/nats-attack.js';
import { LayoutStack } from './support/layout-stack.js';
import { natsLayout } from './support/nats-layout.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

/** The shipped permission layout, used as it is (its subjects carry the default prefix), and its example agent. */
const { exampleAgentId: agentId } = natsLayout();
const agentUser = `agent-${agentId}`;
const encoder = new TextEncoder();

/**
 * The shipped layout against an agent and the platform that try every
 * subject inside as the reply of their publishes, and every header: a
 * server and stack of its own, with streams large enough that no trimming
 * runs meanwhile (a purge through an ack would look like one).
 */
describe('the shipped NATS permission layout, against every reply subject and header', () => {
  let layout: LayoutStack;
  let stack: TestStack;
  const connectAs = (user: string, inboxPrefix: string) => layout.connectAs(user, inboxPrefix);

  beforeAll(async () => {
    layout = await LayoutStack.start({}, ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway']);
    stack = layout.stack;
  });

  afterAll(async () => {
    await layout?.stop();
  });

  it("changes nothing inside through an agent's or the platform's publishes, whatever their reply subject and headers, but their own events, which go all the way through", async () => {
    const nats = await stack.natsClient();
    const camera = randomUUID();
    const victimAgent = randomUUID();
    const endpoint = await stack.createWebsocketEndpoint();
    await stack.createEventFilter({ endpointIds: [endpoint], in: { agentIds: [agentId, victimAgent] } });
    await stack.waitForConfig();
    const client = await TestClient.connect(stack.websocketUrl(endpoint));
    const agentConnection = await connectAs(agentUser, `_INBOX_${agentId}`);
    const agent = jetstream(agentConnection);
    const platformConnection = await connectAs('platform', '_INBOX_platform');
    // The smallest kind of event: some 800 of them wait in the ingress while ingest is stopped.
    const agentEvent = () => {
      const event = freshEvent({ agentId, type: 'non_identification' });
      event.camera.id = camera;
      return event;
    };

    // Another agent's event, stored with its message id (the operators' user may publish on any agent's subject).
    const victim = freshEvent({ agentId: victimAgent });
    await nats.jetstream.publish(`es.agents.${victimAgent}.events`, encoder.encode(JSON.stringify(victim)), { msgID: victim.event.id });
    await waitFor(() => stack.caughtUp('ES_INGRESS', 'ingest'), { what: "ingest to read the other agent's event" });

    // Ingest stopped: what the agent publishes stays in the ingress, and every stream holds still but for it.
    await stack.kill('ingest', 'SIGTERM');
    const before = await snapshotStreams(nats.manager);
    const replies = replySubjectsInside('es');
    const sent: string[] = [];
    for (const reply of replies) {
      const event = agentEvent();
      agentConnection.publish(`es.agents.${agentId}.events`, encoder.encode(JSON.stringify(event)), { reply });
      // The server drops a client's message whose reply is a JetStream ack subject: stored are the others.
      if (!reply.startsWith('$JS.ACK.')) sent.push(event.event.id);
    }
    for (const extra of attackHeaders(victim.event.id)) {
      const event = agentEvent();
      const headers = natsHeaders();
      for (const [name, value] of Object.entries(extra)) headers.set(name, value);
      // Refused or stored: either way the agent's own message alone.
      const ack = await agent.publish(`es.agents.${agentId}.events`, encoder.encode(JSON.stringify(event)), { headers }).catch(() => null);
      if (ack && !ack.duplicate) sent.push(event.event.id);
    }
    const profiles: string[] = [];
    // A reply on one of its own subjects is a publish the platform may make anyway (the ack lands there as a message).
    for (const reply of replies.filter((subject) => !subject.startsWith('es.events.profiles.'))) {
      const id = randomUUID();
      platformConnection.publish('es.events.profiles.upserted', encoder.encode(JSON.stringify({ id, profile_groups: [] })), { reply });
      if (!reply.startsWith('$JS.ACK.')) profiles.push(id);
    }
    await Promise.all([agentConnection.flush(), platformConnection.flush()]);
    const grown = (stream: string, by: number) => async () => (await nats.manager.streams.info(stream)).state.last_seq >= before[stream]!.state.last_seq + by;
    await waitFor(grown('ES_INGRESS', sent.length), { what: `the agent's ${sent.length} events in the ingress` });
    await waitFor(grown('ES_EVENTS', profiles.length), { what: `the platform's ${profiles.length} lifecycle messages` });
    await waitFor(() => stack.caughtUp('ES_EVENTS', 'profile-sync'), { what: 'profile-sync to read them' });
    const after = await snapshotStreams(nats.manager);

    // Each stream and bucket as it was (configs, state, durable consumers), but for the two streams the publishes went to.
    const expected = structuredClone(before);
    for (const [stream, added] of [['ES_INGRESS', sent.length], ['ES_EVENTS', profiles.length]] as const) {
      const was = before[stream]!.state;
      // Grown by exactly what was published, and nothing older gone (bytes and subjects follow from what was added).
      expected[stream]!.state = { ...after[stream]!.state, first_seq: was.first_seq, last_seq: was.last_seq + added, messages: was.messages + added, num_deleted: was.num_deleted };
    }
    // The partitioned apps' leases, positions and memberships move as they work (renewed every second here): their
    // bucket's state is theirs, its configuration is not anyone's to change.
    expected.KV_es_leases!.state = after.KV_es_leases!.state;
    expect(after).toEqual(expected);
    // And what was added is theirs: the agent's events on its own subject, the platform's profiles.
    const added = async (stream: string) => {
      const messages = [];
      for (let seq = before[stream]!.state.last_seq + 1; seq <= after[stream]!.state.last_seq; seq += 1) messages.push((await nats.manager.streams.getMessage(stream, { seq }))!);
      return messages;
    };
    const ingress = await added('ES_INGRESS');
    expect(new Set(ingress.map((message) => message.subject))).toEqual(new Set([`es.agents.${agentId}.events`]));
    expect(ingress.map((message) => message.json<{ event: { id: string } }>().event.id).sort()).toEqual([...sent].sort());
    const lifecycle = await added('ES_EVENTS');
    expect(new Set(lifecycle.map((message) => message.subject))).toEqual(new Set(['es.events.profiles.upserted']));
    expect(lifecycle.map((message) => message.json<{ id: string }>().id).sort()).toEqual([...profiles].sort());

    // Ingest back: every event the agent published goes through the whole pipeline, and so did the other agent's.
    await stack.startApp('ingest');
    await client.waitForEvents(sent.length + 1);
    expect(client.eventIds().sort()).toEqual([...sent, victim.event.id].sort());
    client.close();
    // And no app was refused anything meanwhile.
    const violations = readFileSync(layout.logFile, 'utf8').split('\n').filter((line) => line.includes('Violation'));
    expect(violations.filter((line) => !line.includes(`User "${agentUser}"`) && !line.includes('User "platform"'))).toEqual([]);
  });
});
