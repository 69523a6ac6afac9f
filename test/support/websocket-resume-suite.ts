import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeletedProfiles } from '@app/messaging';
import { freshEvent, seedIdentification, type EventJson } from './fixtures.js';
import { TestStack, type Instance } from './stack.js';
import { waitFor } from './wait.js';
import { TestClient } from './ws-client.js';

const EVENTS = 1_000;

/**
 * A client that reconnects resumes from a position: no gap and no duplicate at the seam of history and live. Run with
 * the gateway reading a consumer per endpoint (websocket-resume.e2e) and one consumer for all (websocket-resume-shared.long).
 */
export function websocketResumeSuite(readingWith: string, sharedFeedFrom: string): void {
  describe(`websocket resume, the gateway reading with ${readingWith}`, () => {
    let stack: TestStack;

    beforeAll(async () => {
      // Memory holds the latest ~60 deliveries only: resumes from further back read the stream.
      stack = await TestStack.start({
        appEnv: { 'websocket-gateway': { WS_DRAIN_GRACE: '1s', WS_RESUME_RATE: '5000', WS_RECENT_BYTES: '96KiB', WS_SHARED_FEED_ENDPOINTS: sharedFeedFrom } },
      });
    });

    it('reads as asked', async () => {
      const { endpointId, reference } = await endpointWithReference();
      await waitFor(async () => (await stack.readiness('websocket-gateway')).sharedFeed === (sharedFeedFrom === '1'), { what: 'the gateway to read as asked' });
      expect(Object.keys((await stack.readiness('websocket-gateway')).feeds)).toContain(endpointId);
      reference.close();
    });

    afterAll(async () => {
      await stack?.stop();
    });

    const urlOf = (instance: Instance, endpointId: string, query = '') =>
      `ws://127.0.0.1:${stack.ports.get(instance)!.main}/event-service/ws?endpoint_id=${endpointId}${query}`;

    /** An endpoint with a reference client that stays connected throughout: the order every client must see. */
    async function endpointWithReference(): Promise<{ endpointId: string; reference: TestClient }> {
      const endpointId = await stack.createWebsocketEndpoint('resume');
      const reference = await TestClient.connect(stack.websocketUrl(endpointId));
      await stack.waitForConfig();
      return { endpointId, reference };
    }

    it('resumes after last_event_id with exactly the events missed while 1,000 flowed, then live ones, in order', async () => {
      const { endpointId, reference } = await endpointWithReference();
      const leaving = await TestClient.connect(stack.websocketUrl(endpointId));

      const posting = stack.postFreshEvents(EVENTS);
      await leaving.waitForEvents(200, 30_000);
      leaving.close();
      await leaving.waitForClose();
      const seen = leaving.eventIds();
      const back = await TestClient.connect(stack.websocketUrl(endpointId) + `&last_event_id=${seen.at(-1)!.toUpperCase()}`);
      const posted = await posting;
      const live = await stack.postFreshEvents(10);

      await reference.waitForEvents(EVENTS + 10, 60_000);
      expect(reference.eventIds()).toEqual([...posted, ...live]);
      await back.waitForEvents(EVENTS + 10 - seen.length, 60_000);
      expect([...seen, ...back.eventIds()]).toEqual(reference.eventIds());
      [reference, back].forEach((client) => client.close());
    }, 120_000);

    it('serves a client that was nearly up to date from memory, and one from further back from the stream, alike', async () => {
      const { endpointId, reference } = await endpointWithReference();
      const posted = await stack.postFreshEvents(120);
      await reference.waitForEvents(120);
      const resumes = async () => (await stack.readiness('websocket-gateway')).resumes as { fromMemory: number; fromStream: number };
      const before = await resumes();

      const near = await TestClient.connect(stack.websocketUrl(endpointId) + `&last_event_id=${posted[115]}`);
      const far = await TestClient.connect(stack.websocketUrl(endpointId) + `&last_event_id=${posted[5]}`);
      await near.waitForEvents(4);
      await far.waitForEvents(114);
      const live = await stack.postFreshEvents(3);
      await near.waitForEvents(7);
      await far.waitForEvents(117);

      expect(near.eventIds()).toEqual([...posted.slice(116), ...live]);
      expect(far.eventIds()).toEqual([...posted.slice(6), ...live]);
      const after = await resumes();
      expect([after.fromMemory - before.fromMemory, after.fromStream - before.fromStream]).toEqual([1, 1]);
      [reference, near, far].forEach((client) => client.close());
    });

    it('resumes from the stream after a test event, and after an event two endpoints got, each at its own position', async () => {
      const first = await endpointWithReference();
      const second = await endpointWithReference();
      const sent = await stack.graphql<{ sendTestEvent: string }>('mutation($id: ID!) { sendTestEvent(endpointId: $id) }', { id: first.endpointId });
      const testEventId = sent.data.sendTestEvent;
      await waitFor(() => first.reference.eventIds().includes(testEventId), { what: 'the test event' });
      // More than memory holds after each position: both resumes read the stream.
      const posted = await stack.postFreshEvents(120);
      await first.reference.waitForEvents(121);
      await second.reference.waitForEvents(120);
      const resumes = async () => ((await stack.readiness('websocket-gateway')).resumes as { fromStream: number }).fromStream;
      const before = await resumes();

      const afterTest = await TestClient.connect(stack.websocketUrl(first.endpointId) + `&last_event_id=${testEventId}`);
      const afterTenth = await TestClient.connect(stack.websocketUrl(second.endpointId) + `&last_event_id=${posted[10]}`);
      await afterTest.waitForEvents(120);
      await afterTenth.waitForEvents(109);

      expect(afterTest.eventIds()).toEqual(posted);
      expect(afterTenth.eventIds()).toEqual(posted.slice(11));
      expect((await resumes()) - before).toBe(2);
      [first.reference, second.reference, afterTest, afterTenth].forEach((client) => client.close());
    });

    it('resumes since a time with the events routed from then on, then live ones', async () => {
      const { endpointId, reference } = await endpointWithReference();
      const before = await stack.postFreshEvents(20);
      await reference.waitForEvents(20);
      const since = new Date().toISOString();
      const after = await stack.postFreshEvents(30);
      await reference.waitForEvents(50);

      const back = await TestClient.connect(stack.websocketUrl(endpointId) + `&since=${encodeURIComponent(since)}`);
      await back.waitForEvents(30);
      const live = await stack.postFreshEvents(5);

      await back.waitForEvents(35);
      expect(back.eventIds()).toEqual([...after, ...live]);
      expect(reference.eventIds()).toEqual([...before, ...after, ...live]);
      [reference, back].forEach((client) => client.close());
    });

    it('replays history as resend does: a profile deleted since is stripped, and an identification left without candidates is not sent', async () => {
      const { endpointId, reference } = await endpointWithReference();
      const [gone, kept] = [randomUUID(), randomUUID()];
      const since = new Date().toISOString();
      const identificationOf = (profileIds: string[]): EventJson => {
        const event = freshEvent();
        const template = seedIdentification().candidates[0];
        event.candidates = profileIds.map((id) => ({ ...template, profile: { ...template.profile, id } }));
        return event;
      };
      const onlyGone = identificationOf([gone]);
      const both = identificationOf([gone.toUpperCase(), kept]);
      const other = identificationOf([kept]);
      for (const event of [onlyGone, both, other]) expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
      await reference.waitForEvents(3);
      expect(reference.eventIds()).toEqual([onlyGone.event.id, both.event.id, other.event.id]);

      await stack.publishProfile({ deleted: { id: gone } });
      // profile-sync has applied the deletion once an event naming the profile is lost rather than delivered.
      const marker = identificationOf([gone]);
      const afterMarker = freshEvent();
      for (const event of [marker, afterMarker]) expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
      await waitFor(() => reference.eventIds().includes(afterMarker.event.id), { what: 'the event after the marker' });
      expect(reference.eventIds()).not.toContain(marker.event.id);
      // profile-sync records the deletion for resumed histories once PostgreSQL has it.
      const deletedProfiles = await DeletedProfiles.open(await stack.natsClient(), 3_600_000);
      await waitFor(() => deletedProfiles.isDeleted(gone), { what: 'the deletion to be recorded' });

      const back = await TestClient.connect(stack.websocketUrl(endpointId) + `&since=${encodeURIComponent(since)}`);
      await back.waitForEvents(3);
      expect(back.eventIds()).toEqual([both.event.id, other.event.id, afterMarker.event.id]);
      expect(back.events[0]!.candidates.map((candidate: { profile: { id: string } }) => candidate.profile.id)).toEqual([kept]);
      [reference, back].forEach((client) => client.close());
    });

    it('refuses a last_event_id it cannot resume from, and a bad position, with a close code and reason', async () => {
      const { endpointId, reference } = await endpointWithReference();
      const [delivered] = await stack.postFreshEvents(1);
      await reference.waitForEvents(1);
      const other = await stack.createWebsocketEndpoint('other');

      expect(await TestClient.refused(stack.websocketUrl(endpointId) + `&last_event_id=${randomUUID()}`)).toEqual({
        code: 4416,
        reason: 'cannot resume: last_event_id was never delivered to this endpoint, or has aged out; reconnect without it, or with since',
      });
      // An event delivered to another endpoint is no position in this one's history.
      expect((await TestClient.refused(stack.websocketUrl(other) + `&last_event_id=${delivered}`)).code).toBe(4416);
      expect(await TestClient.refused(stack.websocketUrl(endpointId) + '&since=yesterday')).toEqual({ code: 4400, reason: 'since must be an RFC 3339 time, e.g. 2026-05-29T10:48:27Z' });
      expect((await TestClient.refused(stack.websocketUrl(endpointId) + `&since=2026-01-01T00:00:00Z&last_event_id=${delivered}`)).code).toBe(4400);
      reference.close();
    });

    it('drains a stopping replica: its clients are told to reconnect (1012), resume on another replica and miss nothing', async () => {
      const second = await stack.startReplica('websocket-gateway');
      const { endpointId, reference } = await endpointWithReference();
      const draining = await TestClient.connect(urlOf(second, endpointId));

      const posting = stack.postFreshEvents(300);
      await draining.waitForEvents(50, 30_000);
      const stopped = stack.kill(second, 'SIGTERM');
      expect(await draining.waitForClose()).toEqual({ code: 1012, reason: 'gateway restarting; reconnect' });
      const seen = draining.eventIds();
      const back = await TestClient.connect(urlOf('websocket-gateway', endpointId, `&last_event_id=${seen.at(-1)}`));
      const posted = await posting;
      await stopped;

      await reference.waitForEvents(300, 60_000);
      await waitFor(() => seen.length + back.frames.length >= 300, { timeoutMs: 60_000, what: 'the resumed client to have every event' });
      expect([...seen, ...back.eventIds()]).toEqual(posted);
      expect(reference.eventIds()).toEqual(posted);
      [reference, back].forEach((client) => client.close());
    }, 120_000);
  });
}
