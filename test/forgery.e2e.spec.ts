import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Headers } from '@app/messaging';
import { freshEvent } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const encoder = new TextEncoder();
/** Each agent's share of the ingress in this test: small, so that one agent fills it. */
const SHARE = 5;
/** Cameras one agent may have in this test. */
const CAMERAS = 3;

/**
 * Events an agent cannot forge, and one agent cannot crowd out another:
 * tokens bound to agents, cameras bound to the first agent that reports
 * them, duplicate keys refused, de-duplication by agent, a share of the
 * ingress per agent.
 */
describe('events an agent cannot forge, and a share of the ingress per agent', () => {
  let stack: TestStack;
  let client: TestClient;

  beforeAll(async () => {
    stack = await TestStack.start({ env: { INGRESS_MAX_PER_AGENT: String(SHARE), INGEST_MAX_CAMERAS_PER_AGENT: String(CAMERAS) } });
    client = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint()));
    await stack.waitForConfig();
  });

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  });

  async function agentToken(agentId: string): Promise<string> {
    const created = await stack.graphql('mutation($agentIds: [String!]) { createApiToken(name: "agent", scope: AGENT, agentIds: $agentIds) { token } }', { agentIds: [agentId] });
    expect(created.errors).toBeUndefined();
    return created.data.createApiToken.token as string;
  }

  it("refuses an event naming a camera of another agent, over HTTP and NATS, until an ADMIN moves the camera", async () => {
    const [owner, intruder] = [randomUUID(), randomUUID()];
    const [ownerToken, intruderToken] = [await agentToken(owner), await agentToken(intruder)];
    const camera = randomUUID();
    const eventOf = (agentId: string) => {
      const event = freshEvent({ agentId });
      event.camera.id = camera;
      return event;
    };

    const first = eventOf(owner);
    expect((await stack.postEvent(JSON.stringify(first), ownerToken)).status).toBe(202);
    const forged = await stack.postEvent(JSON.stringify(eventOf(intruder)), intruderToken);
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ code: 'CAMERA_OF_ANOTHER_AGENT', field: 'camera.id' });
    // The owner in another case of its id, and the camera's id in another case: the same agent and camera.
    const shouted = eventOf(owner.toUpperCase());
    shouted.camera.id = camera.toUpperCase();
    expect((await stack.postEvent(JSON.stringify(shouted), ownerToken)).status).toBe(202);
    // Over NATS: dead-lettered with the reason, and the events behind it go on.
    const nats = await stack.natsClient();
    await nats.jetstream.publish(nats.topology.agentEvents(intruder), encoder.encode(JSON.stringify(eventOf(intruder))));
    await waitFor(
      async () => {
        const record = await nats.manager.streams.getMessage(nats.topology.streams.deadLetters, { last_by_subj: nats.topology.deadLetters('ingest') }).catch(() => null);
        return record?.header?.get(Headers.reason) === 'CAMERA_OF_ANOTHER_AGENT';
      },
      { what: "ingest's dead letter CAMERA_OF_ANOTHER_AGENT" },
    );

    const moved = await stack.graphql('mutation($cameraId: ID!, $agentId: ID!) { moveCamera(cameraId: $cameraId, agentId: $agentId) { cameraId agentId boundAt } }', {
      cameraId: camera.toUpperCase(),
      agentId: intruder,
    });
    expect(moved.errors).toBeUndefined();
    expect(moved.data.moveCamera).toMatchObject({ cameraId: camera, agentId: intruder });
    const afterMove = eventOf(intruder);
    expect((await stack.postEvent(JSON.stringify(afterMove), intruderToken)).status).toBe(202);
    const formerOwner = await stack.postEvent(JSON.stringify(eventOf(owner)), ownerToken);
    expect(formerOwner.status).toBe(403);
    expect(await formerOwner.json()).toMatchObject({ code: 'CAMERA_OF_ANOTHER_AGENT' });

    await waitFor(() => [first, shouted, afterMove].every((event) => client.eventIds().includes(event.event.id)), { what: 'the accepted events delivered' });

    const badMove = await stack.graphql(`mutation { moveCamera(cameraId: "camera-7", agentId: "${intruder}") { agentId } }`);
    expect(badMove.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'cameraId' });
  });

  it('refuses a new camera of an agent that has its cameras already, and takes its known cameras and other agents\' new ones', async () => {
    const [busy, other] = [randomUUID(), randomUUID()];
    const token = await agentToken(busy);
    const onCamera = (agentId: string, cameraId: string) => {
      const event = freshEvent({ agentId });
      event.camera.id = cameraId;
      return JSON.stringify(event);
    };
    const cameras = Array.from({ length: CAMERAS }, () => randomUUID());
    for (const camera of cameras) expect((await stack.postEvent(onCamera(busy, camera), token)).status).toBe(202);
    const refused = await stack.postEvent(onCamera(busy, randomUUID()), token);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'TOO_MANY_CAMERAS', field: 'camera.id' });
    expect((await stack.postEvent(onCamera(busy, cameras[0]!), token)).status).toBe(202);
    expect((await stack.postEvent(onCamera(other, randomUUID()))).status).toBe(202);
  });

  it('refuses a body with a key twice rather than forwarding bytes that parsers read differently', async () => {
    const event = freshEvent();
    const text = JSON.stringify(event).replace('"camera":{', `"camera":{"agent_id":"${randomUUID()}",`);
    const response = await stack.postEvent(text);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'DUPLICATE_KEY', field: 'camera.agent_id' });
    const top = JSON.stringify(event).replace(/}$/, ',"type":"identification"}');
    expect(await (await stack.postEvent(top)).json()).toMatchObject({ code: 'DUPLICATE_KEY', field: 'type' });
  });

  it("stores another agent's event that re-uses an event id: de-duplication is by agent and id", async () => {
    const [first, second] = [randomUUID(), randomUUID()];
    const original = freshEvent({ agentId: first });
    const copy = freshEvent({ agentId: second });
    copy.event.id = original.event.id;
    const answers = [await stack.postEvent(JSON.stringify(original)), await stack.postEvent(JSON.stringify(copy))];
    expect(await Promise.all(answers.map((answer) => answer.json()))).toEqual([
      expect.objectContaining({ duplicate: false }),
      expect.objectContaining({ duplicate: false }),
    ]);
    // The same agent re-sending it, its id in another case: stored once.
    const again = freshEvent({ agentId: first });
    again.event.id = original.event.id.toUpperCase();
    expect(await (await stack.postEvent(JSON.stringify(again))).json()).toMatchObject({ duplicate: true });
    // Both agents' events are delivered, each once: nothing downstream takes one for the other's duplicate.
    const agentsOf = () => client.events.filter((event) => event.event.id === original.event.id).map((event) => event.camera.agent_id);
    await waitFor(() => agentsOf().length >= 2, { what: "both agents' events delivered" });
    await stack.waitForRoutingDone();
    expect(agentsOf().sort()).toEqual([first, second].sort());
  });

  it("refuses an agent's publishes beyond its share of the ingress while ingest is away, and stores another agent's all the same", async () => {
    const nats = await stack.natsClient();
    const [greedy, other] = [randomUUID(), randomUUID()];
    await stack.kill('ingest', 'SIGTERM');
    const accepted: string[] = [];
    const refused: string[] = [];
    for (let sent = 0; sent < SHARE + 3; sent += 1) {
      const event = freshEvent({ agentId: greedy });
      await nats.jetstream.publish(nats.topology.agentEvents(greedy), encoder.encode(JSON.stringify(event))).then(
        () => accepted.push(event.event.id),
        (error: Error) => refused.push(error.message),
      );
    }
    expect(accepted).toHaveLength(SHARE);
    expect(refused).toEqual(Array.from({ length: 3 }, () => expect.stringMatching(/maximum messages per subject/)));
    const others = [freshEvent({ agentId: other }), freshEvent({ agentId: other })];
    for (const event of others) await nats.jetstream.publish(nats.topology.agentEvents(other), encoder.encode(JSON.stringify(event)));

    // Ingest back: everything stored goes through, and the greedy agent's share is free again once ingest has read it.
    await stack.startApp('ingest');
    const stored = [...accepted, ...others.map((event) => event.event.id)];
    await waitFor(() => stored.every((id) => client.eventIds().includes(id)), { what: 'every stored event delivered' });
    await waitFor(
      async () => {
        const event = freshEvent({ agentId: greedy });
        return nats.jetstream.publish(nats.topology.agentEvents(greedy), encoder.encode(JSON.stringify(event))).then(
          () => true,
          () => false,
        );
      },
      { what: "the greedy agent's share to be free again" },
    );
  });
});
