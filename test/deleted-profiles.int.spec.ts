import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { DeletedProfiles, NatsClient } from '@app/messaging';
import { freshEvent } from './support/fixtures.js';
import { NATS_URL } from './support/stack.js';

const HOUR = 3_600_000;

/** The one record every re-send path checks (resendDelivery, replay jobs, a websocket resume), against the real NATS. */
describe('the deleted-profiles read model', () => {
  let client: NatsClient;

  beforeAll(async () => {
    client = await NatsClient.connect({ url: NATS_URL, prefix: `d${randomBytes(4).toString('hex')}`, streamMaxAgeMs: HOUR, duplicateWindowMs: 60_000, connectionName: 'deleted-profiles-test' });
  });

  afterAll(async () => {
    await client.manager.streams.delete(`KV_${client.topology.deletedProfilesBucket}`).catch(() => undefined);
    await client.close();
  });

  const ageOfBucket = async () => (await client.manager.streams.info(`KV_${client.topology.deletedProfilesBucket}`)).config.max_age / 1e6;

  it('keeps entries as long as its owner says, whoever created the bucket', async () => {
    // A reader (the gateway, the api) may start first: the bucket is made with its age, then the owner's wins.
    await DeletedProfiles.open(client, HOUR);
    expect(await ageOfBucket()).toBe(HOUR);
    await DeletedProfiles.open(client, 30 * 24 * HOUR, { owner: true });
    expect(await ageOfBucket()).toBe(30 * 24 * HOUR);
    await DeletedProfiles.open(client, HOUR);
    expect(await ageOfBucket()).toBe(30 * 24 * HOUR);
  });

  it('strips the candidates deleted since routing, keeps the others with their groups as routed, and leaves nothing of an identification all deleted', async () => {
    const profiles = await DeletedProfiles.open(client, HOUR, { owner: true });
    const [kept, gone, recreated] = [randomUUID(), randomUUID(), randomUUID()];
    await profiles.record(gone, true, 10);
    await profiles.record(recreated, true, 11);
    await profiles.record(recreated, false, 12);
    // An older lifecycle message never overwrites a newer one.
    await profiles.record(recreated, true, 11);

    const event = freshEvent();
    const template = event.candidates[0];
    const candidate = (id: string, group: string) => ({ ...structuredClone(template), profile: { ...template.profile, id }, profile_groups: [{ id: group, color: null }] });
    event.candidates = [candidate(kept, 'routed-a'), candidate(gone, 'routed-b'), candidate(recreated.toUpperCase(), 'routed-c')];
    const body = new TextEncoder().encode(JSON.stringify(event));

    const sent = await profiles.recheck(body);
    type Candidate = { profile: { id: string }; profile_groups: Array<{ id: string }> };
    const candidates = (JSON.parse(Buffer.from(sent!).toString('utf8')) as { candidates: Candidate[] }).candidates;
    expect(candidates.map((item) => [item.profile.id, item.profile_groups.map((group) => group.id)])).toEqual([
      [kept, ['routed-a']],
      [recreated.toUpperCase(), ['routed-c']],
    ]);

    event.candidates = [candidate(gone, 'routed-b')];
    expect(await profiles.recheck(new TextEncoder().encode(JSON.stringify(event)))).toBeNull();
    // Nothing to strip: the very bytes.
    const untouched = new TextEncoder().encode(JSON.stringify({ ...event, candidates: [candidate(kept, 'routed-a')] }));
    expect(await profiles.recheck(untouched)).toBe(untouched);
  });
});
