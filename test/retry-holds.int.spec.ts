import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { EndpointState, EndpointType, type ConfigChange, type ConfigView, type EndpointView } from '@app/messaging';
import { createDataSource, migrateDatabase } from '@app/persistence';
import { DeliveryProjection } from '../apps/webhook-dispatcher/src/delivery-projection.js';
import { DeliveryStore } from '../apps/webhook-dispatcher/src/delivery-store.js';
import { RetryHolds } from '../apps/webhook-dispatcher/src/retry-holds.js';
import { DATABASE_URL } from './support/stack.js';
import { waitFor } from './support/wait.js';

/** The part of the config view RetryHolds reads, driven by the test. */
class TestView {
  healthy = true;
  private readonly endpoints = new Map<string, EndpointView>();
  private readonly listeners: Array<(change: ConfigChange) => void> = [];

  set(id: string, state: EndpointState): void {
    const endpoint: EndpointView = { id, name: 'hook', type: EndpointType.WEB_HOOK, meta: { url: 'https://receiver.example/hook' }, state, resumeGeneration: 0, version: 1 };
    this.endpoints.set(id, endpoint);
    this.listeners.forEach((listener) => listener({ kind: 'endpoint-upserted', endpoint }));
  }

  endpoint(id: string): EndpointView | undefined {
    return this.endpoints.get(id);
  }

  allEndpoints(): IterableIterator<EndpointView> {
    return this.endpoints.values();
  }

  onChange(listener: (change: ConfigChange) => void): void {
    this.listeners.push(listener);
  }
}

/** Parked deliveries are held while their endpoint is not active, so that claims never read them, and released when it is again. */
describe('held retries against the real PostgreSQL', () => {
  const settings = { url: DATABASE_URL, schema: `held_${randomBytes(4).toString('hex')}` };
  let dataSource: DataSource;
  let store: DeliveryStore;
  let db: pg.Client;
  let seq = 0;
  const running: Array<{ holds: RetryHolds; projection: DeliveryProjection }> = [];

  beforeAll(async () => {
    await migrateDatabase(settings);
    dataSource = await createDataSource(settings).initialize();
    store = new DeliveryStore(dataSource);
    db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
  });

  afterEach(async () => {
    for (const { holds, projection } of running.splice(0)) {
      await projection.onApplicationShutdown();
      await holds.onApplicationShutdown();
    }
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.query(`DROP SCHEMA IF EXISTS ${settings.schema} CASCADE`);
    await db?.end();
  });

  function dispatcher(view: TestView): { holds: RetryHolds; projection: DeliveryProjection } {
    const holds = new RetryHolds(store, view as unknown as ConfigView);
    const projection = new DeliveryProjection(store, holds);
    holds.onApplicationBootstrap();
    running.push({ holds, projection });
    return { holds, projection };
  }

  async function webhook(view: TestView, state: EndpointState): Promise<string> {
    const id = randomUUID();
    await db.query(`INSERT INTO ${settings.schema}.endpoint (id, name, type) VALUES ($1, 'hook', 'WEB_HOOK')`, [id]);
    view.set(id, state);
    return id;
  }

  /**
   * Parks a due delivery of the endpoint through the projection, as the
   * attempts stream brings it: a fresh one with its body, or (`claimedEventId`)
   * one claimed from the ledger, whose row holds its body.
   */
  function parkOne(projection: DeliveryProjection, endpointId: string, claimedEventId?: string): Promise<void> {
    const at = new Date(Date.now() - 1_000).toISOString();
    const delivery = claimedEventId ? { eventId: claimedEventId } : { eventId: randomUUID(), body: 'e30=' };
    return projection.apply({ seq: (seq += 1), change: { id: randomUUID(), endpointId, ...delivery, log: null, retry: { kind: 'park', attempt: 2, at } } });
  }

  /** Parks `count` due deliveries of the endpoint. */
  async function park(projection: DeliveryProjection, endpointId: string, count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => parkOne(projection, endpointId)));
  }

  /** What a claim would take of the endpoint now (the claim is given back at once). */
  async function claimable(endpointId: string): Promise<number> {
    const claimed = await store.claimDue(1_000, 60_000, [], new Date(), []);
    await db.query(`UPDATE ${settings.schema}.delivery_retry SET locked_until = NULL WHERE id = ANY($1::bigint[])`, [claimed.map((delivery) => delivery.id)]);
    return claimed.filter((delivery) => delivery.endpointId === endpointId).length;
  }

  const heldCount = async (endpointId: string) =>
    Number((await db.query(`SELECT count(*) FROM ${settings.schema}.delivery_retry WHERE endpoint_id = $1 AND held`, [endpointId])).rows[0].count);

  it('keeps a paused endpoint out of claims, still probes it, and releases its deliveries on resume', async () => {
    const view = new TestView();
    const { projection } = dispatcher(view);
    const endpointId = await webhook(view, EndpointState.ACTIVE);
    await park(projection, endpointId, 5);
    expect(await claimable(endpointId)).toBe(5);

    view.set(endpointId, EndpointState.PAUSED_BY_FAILURES);
    await waitFor(async () => (await heldCount(endpointId)) === 5, { what: 'the deliveries to be held' });
    expect(await claimable(endpointId)).toBe(0);
    const probe = await store.claimOneOf(endpointId, 60_000, new Date(), []);
    expect(probe?.endpointId).toBe(endpointId);
    // The probe failed: parked again for its next attempt, still held, its body kept.
    await parkOne(projection, endpointId, probe!.eventId);
    expect(await heldCount(endpointId)).toBe(5);
    const kept = await db.query(`SELECT body, locked_until FROM ${settings.schema}.delivery_retry WHERE endpoint_id = $1 AND event_id = $2`, [endpointId, probe!.eventId]);
    expect(kept.rows).toEqual([{ body: Buffer.from('{}'), locked_until: null }]);

    view.set(endpointId, EndpointState.ACTIVE);
    await waitFor(async () => (await claimable(endpointId)) === 5, { what: 'the deliveries to be claimable again' });
  });

  it('writes a delivery parked while its endpoint is paused held, and lets the last of quick changes win', async () => {
    const view = new TestView();
    const { holds, projection } = dispatcher(view);
    const endpointId = await webhook(view, EndpointState.PAUSED_BY_HAND);
    await park(projection, endpointId, 3);
    expect(await heldCount(endpointId)).toBe(3);

    view.set(endpointId, EndpointState.ACTIVE);
    // While the resume's UPDATE runs: disabled, then resumed again.
    await new Promise((resolve) => setImmediate(resolve));
    view.set(endpointId, EndpointState.DISABLED_GONE);
    view.set(endpointId, EndpointState.ACTIVE);
    await holds.onApplicationShutdown();

    expect(await heldCount(endpointId)).toBe(0);
    expect(await claimable(endpointId)).toBe(3);
  });

  it('holds the rest of an endpoint when a claim finds one of its deliveries not held', async () => {
    const view = new TestView();
    const { holds, projection } = dispatcher(view);
    const endpointId = await webhook(view, EndpointState.ACTIVE);
    await park(projection, endpointId, 4);
    view.set(endpointId, EndpointState.PAUSED_BY_HAND);
    await waitFor(async () => (await heldCount(endpointId)) === 4, { what: 'the pause to hold the deliveries' });
    // As if the pause's UPDATE had failed (PostgreSQL away for it): the scheduler claims them, and the gate says paused.
    await db.query(`UPDATE ${settings.schema}.delivery_retry SET held = false WHERE endpoint_id = $1`, [endpointId]);
    const claimed = (await store.claimDue(1_000, 60_000, [], new Date(), [])).filter((delivery) => delivery.endpointId === endpointId);
    expect(claimed).toHaveLength(4);

    // What the scheduler does then (delivery-transitions: paused, from CLAIMED): parks it (written held) and settles its endpoint.
    await parkOne(projection, endpointId, claimed[0]!.eventId);
    holds.settle(endpointId);

    await waitFor(async () => (await heldCount(endpointId)) === 4, { what: 'the rest of the endpoint to be held' });
    expect(await claimable(endpointId)).toBe(0);
  });

  it('releases, at start, deliveries held for an endpoint that is active', async () => {
    const view = new TestView();
    const endpointId = await webhook(view, EndpointState.ACTIVE);
    const first = dispatcher(view);
    await park(first.projection, endpointId, 2);
    // Held by a replica whose view was behind, or before a resume made while no dispatcher ran.
    await db.query(`UPDATE ${settings.schema}.delivery_retry SET held = true WHERE endpoint_id = $1`, [endpointId]);
    expect(await claimable(endpointId)).toBe(0);

    dispatcher(view);

    await waitFor(async () => (await claimable(endpointId)) === 2, { what: 'the reconciliation to release the deliveries' });
  });
});
