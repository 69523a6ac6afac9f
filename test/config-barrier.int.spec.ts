import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import { awaitConfigApplied, ConfigBarrierResponder, ConfigKeys, ConfigView, NatsClient, openConfigBucket } from '@app/messaging';
import { NATS_URL } from './support/stack.js';

/** The api waits for every dispatcher replica's view to apply a change before a pause, a resume or a rotation returns. */
describe('the config barrier against the real NATS', () => {
  let client: NatsClient;
  let bucket: KV;
  const views: ConfigView[] = [];
  const responders: ConfigBarrierResponder[] = [];

  beforeAll(async () => {
    client = await NatsClient.connect({ url: NATS_URL, prefix: `b${randomBytes(4).toString('hex')}`, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 60_000, connectionName: 'barrier-test' });
    bucket = await openConfigBucket(client);
    await bucket.put(ConfigKeys.published, '{}');
  });

  afterAll(async () => {
    responders.forEach((responder) => responder.stop());
    views.forEach((view) => view.stop());
    await client.manager.streams.delete(`KV_${client.topology.configBucket}`).catch(() => undefined);
    await client.close();
  });

  async function replica(): Promise<ConfigView> {
    const view = new ConfigView(bucket);
    await view.start();
    const responder = new ConfigBarrierResponder(client, new Map([[client.topology.configBucket, view]]), client.topology.configApplied);
    responder.start();
    views.push(view);
    responders.push(responder);
    return view;
  }

  it('returns once every replica has applied the revision, and names a replica that has not', async () => {
    expect(await awaitConfigApplied(client, 1)).toEqual({ replicas: 0, lagging: 0 });

    const [first, second] = [await replica(), await replica()];
    const revision = await bucket.put(ConfigKeys.endpoint(randomUUID()), '{}');
    const outcome = await awaitConfigApplied(client, revision);
    expect(outcome).toEqual({ replicas: 2, lagging: 0 });
    expect(first.revision).toBeGreaterThanOrEqual(revision);
    expect(second.revision).toBeGreaterThanOrEqual(revision);

    // A replica whose watch has stopped never applies the next revision: it is counted, not waited for beyond the deadline.
    second.stop();
    const next = await bucket.put(ConfigKeys.endpoint(randomUUID()), '{}');
    expect(await awaitConfigApplied(client, next, { timeoutMs: 500 })).toEqual({ replicas: 2, lagging: 1 });
    expect(first.revision).toBeGreaterThanOrEqual(next);

    // A question about another bucket (its own revisions) is answered only by the replicas holding a view of it.
    expect(await awaitConfigApplied(client, 1, { bucket: client.topology.secretsBucket })).toEqual({ replicas: 0, lagging: 0 });
  });
});
