import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freshEvent, seedIdentification, type EventJson } from './support/fixtures.js';
import { createDataSource } from '@app/persistence';
import { DeletedProfiles, DURABLES, openLeasesBucket, partitionOf, PartitionStore } from '@app/messaging';
import { idKey } from '@app/events';
import { ProfileRegistry } from '../apps/profile-sync/src/profile-registry.js';
import type { ProfileSyncConfig } from '../apps/profile-sync/src/profile-sync.config.js';
import { DATABASE_URL, TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';
import { TestClient } from './support/ws-client.js';

const LOST = `query($filters: LostEventFilters, $order: LostEventOrder) {
  lostEvents(filters: $filters, order: $order) { totalCount collectionItems { id event reason deletedProfileIds divertedAt } }
}`;

/** An identification event whose candidates are the given profiles (each with the agent's idea of its groups). */
function identificationOf(profiles: Array<{ id: string; groups?: string[] }>, camera = randomUUID()): EventJson {
  const event = freshEvent();
  event.camera.id = camera;
  const template = seedIdentification().candidates[0];
  event.candidates = profiles.map(({ id, groups }) => ({
    ...template,
    profile: { ...template.profile, id },
    profile_groups: (groups ?? [randomUUID()]).map((group) => ({ id: group, color: 'orange.400' })),
  }));
  return event;
}

describe('profiles, lost events', () => {
  let stack: TestStack;
  let client: TestClient;

  beforeAll(async () => {
    stack = await TestStack.start();
    client = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint('everything')));
    await stack.waitForConfig();
  });

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  });

  /**
   * Posts the events, then a marker; once the marker arrives, every event
   * before it was delivered or not (one reader, in order). A diverted one may
   * still be on its way into PostgreSQL: see lostEventsOnceListed.
   */
  async function deliveredOf(events: EventJson[]): Promise<EventJson[]> {
    const before = client.frames.length;
    for (const event of events) expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    const marker = freshEvent({ type: 'non_identification' });
    await stack.postEvent(JSON.stringify(marker));
    await waitFor(() => client.eventIds().includes(marker.event.id), { what: 'the marker' });
    return client.events.slice(before).filter((event) => event.event.id !== marker.event.id);
  }

  /** The lostEvents page for `filters` once it lists at least `count` events (diverting is asynchronous to delivery). */
  async function lostEventsOnceListed(filters: Record<string, unknown>, count: number, order?: Record<string, string>): Promise<{ totalCount: number; collectionItems: any[] }> {
    return waitFor(
      async () => {
        const { data, errors } = await stack.graphql(LOST, { filters, order });
        if (errors) throw new Error(errors[0]!.message);
        return data.lostEvents.totalCount >= count ? (data.lostEvents as { totalCount: number; collectionItems: any[] }) : null;
      },
      { what: `${count} lost events for ${JSON.stringify(filters)}` },
    );
  }

  it('diverts an identification whose only profile was deleted to lostEvents, as it would have been delivered, with the reason and the profile', async () => {
    const profile = randomUUID();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [{ id: randomUUID(), color: null }] } });
    await stack.publishProfile({ deleted: { id: profile } });
    const event = identificationOf([{ id: profile }]);

    expect(await deliveredOf([event])).toEqual([]);

    const lost = await lostEventsOnceListed({ id: { exact: event.event.id } }, 1);
    expect(lost.totalCount).toBe(1);
    const asDelivered = { ...event, candidates: [] };
    expect(lost.collectionItems[0]).toMatchObject({ id: event.event.id, event: asDelivered, reason: 'ALL_CANDIDATES_DELETED', deletedProfileIds: [profile] });
    // As it would have been delivered: without the deleted candidate, every object in the agent's key order.
    expect(JSON.stringify(lost.collectionItems[0].event)).toBe(JSON.stringify(asDelivered));
  });

  it('delivers an event with one deleted and one live candidate with only the live one, with the platform’s groups', async () => {
    const [gone, live, platformGroup] = [randomUUID(), randomUUID(), randomUUID()];
    await stack.publishProfile({ upserted: { id: live, profile_groups: [{ id: platformGroup, color: 'red.500' }] } });
    await stack.publishProfile({ deleted: { id: gone } });
    const event = identificationOf([{ id: gone }, { id: live, groups: [randomUUID()] }]);

    const [delivered] = await deliveredOf([event]);

    expect(delivered!.candidates.map((candidate: any) => candidate.profile.id)).toEqual([live]);
    expect(delivered!.candidates[0].profile_groups).toEqual([{ id: platformGroup, color: 'red.500' }]);
    expect({ ...delivered, candidates: undefined }).toEqual({ ...event, candidates: undefined });
  });

  it('never loses a non-identification event, an identification without candidates, or one whose profile it never heard of', async () => {
    const events = [freshEvent({ type: 'non_identification' }), identificationOf([]), identificationOf([{ id: randomUUID() }])];

    const delivered = await deliveredOf(events);

    expect(delivered).toEqual(events);
  });

  it('lets filters see the current watchlists, not the ones the agent sent', async () => {
    const [profile, oldGroup, newGroup] = [randomUUID(), randomUUID(), randomUUID()];
    const watchlist = await stack.createWebsocketEndpoint('watchlist');
    await stack.createEventFilter({ name: 'new group', endpointIds: [watchlist], in: { profileGroupIds: [newGroup] } });
    const watcher = await TestClient.connect(stack.websocketUrl(watchlist));
    await stack.waitForConfig();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [{ id: newGroup, color: null }] } });
    const event = identificationOf([{ id: profile, groups: [oldGroup] }]);

    await deliveredOf([event]);

    await watcher.waitForEvents(1);
    expect(watcher.eventIds()).toEqual([event.event.id]);
    watcher.close();
  });

  it('diverts events ingested after a deletion that was published while profile-sync was down', async () => {
    const profile = randomUUID();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: [] } });
    // profile-sync has applied (and acked) the upsert: the deletion is the one change it misses.
    await stack.waitForRoutingDone();
    await stack.kill('profile-sync');
    await stack.publishProfile({ deleted: { id: profile } });
    const event = identificationOf([{ id: profile }]);
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);

    await stack.startApp('profile-sync');

    expect(await deliveredOf([])).toEqual([]);
    expect(client.eventIds()).not.toContain(event.event.id);
    const lost = await lostEventsOnceListed({ profileId: { exact: profile } }, 1);
    expect(lost.collectionItems.map((item: any) => item.id)).toEqual([event.event.id]);
  });

  it('keeps a profile deleted after a restart when its older upsert is written again after the deletion', async () => {
    const profile = randomUUID();
    const groups = [{ id: randomUUID(), color: null }];
    const nats = await stack.natsClient();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: groups } });
    const upsert = await nats.manager.streams.getMessage(nats.topology.streams.events, { last_by_subj: nats.topology.profileUpserted });
    await stack.publishProfile({ deleted: { id: profile } });
    await stack.waitForRoutingDone();
    // The upsert's own message handled again, as a redelivery hands it over: written after the deletion.
    const dataSource = createDataSource({ url: DATABASE_URL, schema: stack.schema });
    await dataSource.initialize();
    try {
      const deletedProfiles = await DeletedProfiles.open(nats, 3_600_000);
      await new ProfileRegistry(dataSource, nats, deletedProfiles, { STREAM_MAX_AGE: 3_600_000 } as ProfileSyncConfig).upsert(profile, groups, upsert!.seq);
      // Nor does the bucket that resumed histories consult take the older upsert over the deletion.
      expect(await deletedProfiles.isDeleted(idKey(profile))).toBe(true);
    } finally {
      await dataSource.destroy();
    }
    // A new process knows only what PostgreSQL kept.
    await stack.kill('profile-sync');
    await stack.startApp('profile-sync');
    const event = identificationOf([{ id: profile }]);

    expect(await deliveredOf([event])).toEqual([]);
    const lost = await lostEventsOnceListed({ profileId: { exact: profile } }, 1);
    expect(lost.collectionItems.map((item: any) => item.id)).toEqual([event.event.id]);
  });

  it('decides an event read again after a restart with its profile as it was when the event was stored, deleted, though it was created again since', async () => {
    const profile = randomUUID();
    const groups = [{ id: randomUUID(), color: null }];
    const nats = await stack.natsClient();
    await stack.publishProfile({ upserted: { id: profile, profile_groups: groups } });
    await stack.publishProfile({ deleted: { id: profile } });
    const deletion = await nats.manager.streams.getMessage(nats.topology.streams.events, { last_by_subj: nats.topology.profileDeleted });
    const event = identificationOf([{ id: profile }]);
    expect(await deliveredOf([event])).toEqual([]);
    await lostEventsOnceListed({ profileId: { exact: profile } }, 1);
    // Created again: PostgreSQL's row is the new profile now.
    await stack.publishProfile({ upserted: { id: profile, profile_groups: groups } });
    await stack.waitForRoutingDone();
    // Stopped, with the event's partition set back to the deletion, as a replica killed before it wrote that
    // partition's position leaves it: the next start reads the event again.
    await stack.kill('profile-sync', 'SIGTERM');
    const partitions = new PartitionStore(await openLeasesBucket(nats), DURABLES.profileSync);
    await partitions.setPosition(partitionOf(idKey(event.camera.id), (await partitions.count())!), deletion!.seq);
    await stack.startApp('profile-sync');

    // A marker of the same camera comes after the event read again (one partition, in order).
    const marker = freshEvent({ type: 'non_identification' });
    marker.camera.id = event.camera.id;
    expect((await stack.postEvent(JSON.stringify(marker))).status).toBe(202);
    await waitFor(() => client.eventIds().includes(marker.event.id), { what: 'the marker' });
    expect(client.eventIds()).not.toContain(event.event.id);
  });

  it('filters lost events by type, camera, agent, profile and detection date, ordered by date', async () => {
    const profile = randomUUID();
    const camera = randomUUID();
    await stack.publishProfile({ deleted: { id: profile } });
    const early = identificationOf([{ id: profile }], camera);
    early.event.detection_date = '2024-05-29 09:00:00.000000+00:00';
    const late = identificationOf([{ id: profile }], camera);
    late.event.detection_date = '2024-05-29 11:00:00.000000+00:00';
    await deliveredOf([early, late]);

    const byCamera = await lostEventsOnceListed({ cameraId: { exact: camera } }, 2, { date: 'ASC' });
    const afterTen = await stack.graphql(LOST, { filters: { cameraId: { in: [camera] }, date: { gte: '2024-05-29T10:00:00Z' } } });
    const otherType = await stack.graphql(LOST, { filters: { cameraId: { exact: camera }, type: { exact: 'roi' } } });
    const byAgent = await stack.graphql(LOST, { filters: { agentId: { exact: early.camera.agent_id }, profileId: { in: [profile] } } });
    const badType = await stack.graphql(LOST, { filters: { type: { exact: 'smile' } } });
    // An empty `in` admits nothing, whichever filter has it (edge fuzz, seed 1839658481, found `IN ()` sent to PostgreSQL).
    const emptyIns = await Promise.all(['id', 'cameraId', 'agentId', 'profileId', 'type'].map((field) => stack.graphql(LOST, { filters: { [field]: { in: [] } } })));

    expect(byCamera.collectionItems.map((item: any) => item.id)).toEqual([early.event.id, late.event.id]);
    expect(afterTen.data.lostEvents.collectionItems.map((item: any) => item.id)).toEqual([late.event.id]);
    expect(otherType.data.lostEvents.totalCount).toBe(0);
    expect(byAgent.data.lostEvents.totalCount).toBe(2);
    expect(badType.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(badType.errors?.[0]?.message).toMatch(/"smile".*EventType/);
    for (const answer of emptyIns) expect([answer.errors, answer.data?.lostEvents]).toEqual([undefined, { totalCount: 0, collectionItems: [] }]);
  });
});
