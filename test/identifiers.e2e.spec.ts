import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshEvent, SEED_IDENTIFICATION_TEXT, seedIdentification, type EventJson } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const LOST = `query($filters: LostEventFilters) {
  lostEvents(filters: $filters) { totalCount collectionItems { id event deletedProfileIds } }
}`;

const upper = (id: string) => id.toUpperCase();

/**
 * The seed event's very text (its spacing and key order), with the ids
 * given: what an agent that writes its UUIDs in upper case sends.
 */
function seedTextWith(ids: { eventId: string; cameraId: string; agentId: string; profileId: string; groupId: string }): string {
  const seed = seedIdentification();
  const text = SEED_IDENTIFICATION_TEXT.replace(seed.event.id, ids.eventId)
    .replace(seed.camera.id, ids.cameraId)
    .replace(seed.camera.agent_id, ids.agentId)
    .replace(seed.candidates[0].profile.id, ids.profileId)
    .replace(seed.candidates[0].profile_groups[0].id, ids.groupId);
  const event = JSON.parse(text) as EventJson;
  expect([event.event.id, event.camera.id, event.camera.agent_id, event.candidates[0].profile.id, event.candidates[0].profile_groups[0].id]).toEqual([
    ids.eventId,
    ids.cameraId,
    ids.agentId,
    ids.profileId,
    ids.groupId,
  ]);
  return text;
}

/** An identification whose candidates are the given profiles, on a camera of its own. */
function identificationOf(profileIds: string[]): EventJson {
  const event = freshEvent();
  event.camera.id = randomUUID();
  const template = seedIdentification().candidates[0];
  event.candidates = profileIds.map((id) => ({ ...template, profile: { ...template.profile, id } }));
  return event;
}

describe('ids are compared case-insensitively, and events are delivered as the agent wrote them', () => {
  let stack: TestStack;
  /** A client of an endpoint without filters: it receives every event. */
  let everything: TestClient;

  beforeAll(async () => {
    stack = await TestStack.start();
    everything = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint('everything')));
    await stack.waitForConfig();
  });

  afterAll(async () => {
    everything?.close();
    await stack?.stop();
  });

  /** Posts the bodies (each must be accepted), then a marker; resolves once `everything` has the marker. */
  async function postAll(bodies: string[]): Promise<void> {
    for (const body of bodies) expect((await stack.postEvent(body)).status).toBe(202);
    const marker = freshEvent({ type: 'non_identification' });
    expect((await stack.postEvent(JSON.stringify(marker))).status).toBe(202);
    await waitFor(() => everything.eventIds().includes(marker.event.id), { what: 'the marker' });
    await stack.waitForRoutingDone();
  }

  /** The lostEvents page for `filters` once it lists at least one event (diverting is asynchronous to delivery). */
  async function lostEventsOf(filters: Record<string, unknown>): Promise<Array<{ id: string; event: EventJson; deletedProfileIds: string[] }>> {
    return waitFor(
      async () => {
        const { data, errors } = await stack.graphql(LOST, { filters });
        if (errors) throw new Error(errors[0]!.message);
        // The event is the JSON the agent posted (the schema's JSON scalar).
        return data.lostEvents.totalCount > 0 ? data.lostEvents.collectionItems.map((item) => ({ ...item, event: item.event as EventJson })) : null;
      },
      { what: `a lost event for ${JSON.stringify(filters)}` },
    );
  }

  it('routes upper-case camera, agent and watchlist ids like lower-case ones, and delivers the very bytes posted', async () => {
    const [camera, agent, group] = [randomUUID(), randomUUID(), randomUUID()];
    const names = ['camera', 'agent', 'group', 'upperCaseFilter', 'otherCamera'] as const;
    const endpoints = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await stack.createWebsocketEndpoint(name)] as const)));
    await stack.createEventFilter({ name: 'camera', endpointIds: [endpoints.camera!], in: { cameraIds: [camera] } });
    await stack.createEventFilter({ name: 'agent', endpointIds: [endpoints.agent!], in: { agentIds: [agent] } });
    await stack.createEventFilter({ name: 'watchlist', endpointIds: [endpoints.group!], in: { profileGroupIds: [group] } });
    // A filter written with upper-case ids, targeting its endpoint by an upper-case id too.
    const upperCaseFilter = await stack.createEventFilter({
      name: 'upper case',
      endpointIds: [upper(endpoints.upperCaseFilter!)],
      in: { cameraIds: [upper(camera)], agentIds: [upper(agent)], profileGroupIds: [upper(group)] },
    });
    await stack.createEventFilter({ name: 'other camera', endpointIds: [endpoints.otherCamera!], in: { cameraIds: [randomUUID()] } });
    const clients = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await TestClient.connect(stack.websocketUrl(endpoints[name]!))] as const)));
    await stack.waitForConfig();
    const ids = (spell: (id: string) => string) => ({ eventId: spell(randomUUID()), cameraId: spell(camera), agentId: spell(agent), profileId: spell(randomUUID()), groupId: spell(group) });
    const lowerCase = seedTextWith(ids((id) => id));
    const upperCase = seedTextWith(ids(upper));
    const mixedCase = seedTextWith(ids((id) => id.slice(0, 18) + upper(id.slice(18))));

    await postAll([lowerCase, upperCase, mixedCase]);

    const posted = [lowerCase, upperCase, mixedCase];
    for (const name of ['camera', 'agent', 'group', 'upperCaseFilter'] as const) {
      expect([name, clients[name]!.frames.map((frame) => frame.text)]).toEqual([name, posted]);
    }
    expect(clients.otherCamera!.frames).toEqual([]);
    const stored = await stack.graphql('query($id: ID!) { eventsFilters(filters: { id: { exact: $id } }) { collectionItems { endpoints { id } in { cameraIds agentIds profileGroupIds } } } }', {
      id: upper(upperCaseFilter),
    });
    expect(stored.data.eventsFilters.collectionItems).toEqual([
      { endpoints: [{ id: endpoints.upperCaseFilter }], in: { cameraIds: [camera], agentIds: [agent], profileGroupIds: [group] } },
    ]);
    Object.values(clients).forEach((client) => client.close());
  });

  it('strips or loses a candidate whose deleted profile id is in another case, as it does in lower case', async () => {
    const [deletedInLowerCase, deletedInUpperCase, unknown] = [randomUUID(), randomUUID(), randomUUID()];
    await stack.publishProfile({ deleted: { id: deletedInLowerCase } });
    await stack.publishProfile({ deleted: { id: upper(deletedInUpperCase) } });
    const lost = identificationOf([upper(deletedInLowerCase)]);
    const lostToo = identificationOf([deletedInUpperCase]);
    const stripped = identificationOf([upper(deletedInLowerCase), unknown]);

    await postAll([lost, lostToo, stripped].map((event) => JSON.stringify(event)));

    const delivered = everything.events.filter((event) => [lost, lostToo, stripped].some((posted) => posted.event.id === event.event.id));
    expect(delivered).toEqual([{ ...stripped, candidates: [stripped.candidates[1]] }]);
    const [stored] = await lostEventsOf({ id: { exact: upper(lost.event.id) } });
    expect(stored!.deletedProfileIds).toEqual([deletedInLowerCase]);
    // As it would have been delivered, in the agent's key order.
    expect(JSON.stringify(stored!.event)).toBe(JSON.stringify({ ...lost, candidates: [] }));
    const [storedToo] = await lostEventsOf({ profileId: { exact: upper(deletedInUpperCase) } });
    expect(storedToo!.id).toBe(lostToo.event.id);
  });

  it('connects an upper-case endpoint_id to its endpoint, and the client receives its events', async () => {
    const endpoint = await stack.createWebsocketEndpoint('upper-case url');
    const camera = randomUUID();
    await stack.createEventFilter({ name: 'one camera', endpointIds: [endpoint], in: { cameraIds: [camera] } });
    const client = await TestClient.connect(stack.websocketUrl(upper(endpoint)));
    await stack.waitForConfig();
    const event = freshEvent();
    event.camera.id = camera;

    await postAll([JSON.stringify(event), JSON.stringify(freshEvent())]);

    await client.waitForEvents(1);
    expect(client.eventIds()).toEqual([event.event.id]);
    expect(client.closeEvent).toBeNull();
    client.close();
  });

  it('finds an endpoint by an upper-case id in queries and mutations', async () => {
    const endpoint = await stack.createWebsocketEndpoint('before');

    const listed = await stack.graphql('query($id: ID!) { endpoints(filters: { id: { in: [$id] } }) { collectionItems { id name } } }', { id: upper(endpoint) });
    const renamed = await stack.graphql('mutation($id: ID!) { updateEndpoint(id: $id, name: "after") { id name } }', { id: upper(endpoint) });

    expect(listed.errors).toBeUndefined();
    expect(listed.data.endpoints.collectionItems).toEqual([{ id: endpoint, name: 'before' }]);
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data.updateEndpoint).toEqual({ id: endpoint, name: 'after' });
  });

  it('serves an image by its id in upper case', async () => {
    const face = randomBytes(2_000);
    const event = freshEvent({ withoutLinks: true });
    event.images = { image: { content_type: 'image/jpeg', data: face.toString('base64') } };
    const before = everything.frames.length;

    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);

    await everything.waitForEvents(before + 1);
    const imageId = everything.events.find((delivered) => delivered.event.id === event.event.id)!.event.image as string;
    const response = await fetch(stack.url('api', `/event-service/get-image/${upper(imageId)}`), { headers: { Token: stack.token } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer())).toEqual(face);
  });

  it('takes an event re-sent with its id in upper case for a duplicate, and delivers it once', async () => {
    const event = freshEvent();
    const resent = { ...event, event: { ...event.event, id: upper(event.event.id) } };
    const before = everything.frames.length;

    const first = await stack.postEvent(JSON.stringify(event));
    const again = await stack.postEvent(JSON.stringify(resent));
    await postAll([]);

    expect(await first.json()).toMatchObject({ duplicate: false });
    expect(await again.json()).toMatchObject({ duplicate: true });
    const ids = everything.eventIds().slice(before).filter((id) => id.toLowerCase() === event.event.id);
    expect(ids).toEqual([event.event.id]);
  });
});
