import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { setTimeout as pause } from 'node:timers/promises';
import pg from 'pg';
import { ConfigKeys, openConfigBucket } from '@app/messaging';
import { DATABASE_URL, TestStack, type Instance } from './stack.js';
import { waitFor } from './wait.js';

const SEEDED_ENDPOINTS = 50;
const WORKERS = 8;

/** How big a run is: filters seeded straight into PostgreSQL, edits per worker (eight workers), filters raced by both replicas. */
export interface ReconcileRunSize {
  seededFilters: number;
  operationsPerWorker: number;
  contested: number;
}

interface Seen {
  operation: string;
  version: number;
  value: Record<string, any> | null;
}

/**
 * Two api replicas reconcile the config bucket every second while both take
 * creates, updates and deletes, over thousands of filters (`npm test`) or
 * tens of thousands (`npm run test:long`): the
 * bucket never holds an older version of a record after a newer one, never
 * brings back a deleted record, and ends equal to PostgreSQL.
 */
export function configReconcileSuite({ seededFilters: SEEDED_FILTERS, operationsPerWorker: OPERATIONS_PER_WORKER, contested: CONTESTED }: ReconcileRunSize): void {
  describe(`the config bucket under concurrent edits from two api replicas (${SEEDED_FILTERS} filters)`, () => {
    let stack: TestStack;
    let db: pg.Client;
    const replicas: Instance[] = ['api'];

    beforeAll(async () => {
      stack = await TestStack.start({ apps: ['api'], appEnv: { api: { CONFIG_RECONCILE_INTERVAL: '1s' } } });
      db = new pg.Client({ connectionString: DATABASE_URL });
      await db.connect();
      await db.query(`SET search_path TO ${stack.schema}`);
      // Seeded straight into PostgreSQL: only the reconcile brings these to the bucket.
      await db.query(`INSERT INTO endpoint (id, name, type) SELECT gen_random_uuid(), 'seeded ' || i, 'WEB_SOCKET' FROM generate_series(1, ${SEEDED_ENDPOINTS}) i`);
      await db.query(
        `INSERT INTO event_filter (id, name, camera_ids) SELECT gen_random_uuid(), 'seeded ' || i, ARRAY[gen_random_uuid()] FROM generate_series(1, ${SEEDED_FILTERS}) i`,
      );
      await db.query(`
        INSERT INTO event_filter_endpoint (event_filter_id, endpoint_id)
        SELECT f.id, e.id FROM (SELECT id, row_number() OVER () % ${SEEDED_ENDPOINTS} AS n FROM event_filter) f
        JOIN (SELECT id, row_number() OVER () - 1 AS n FROM endpoint) e ON e.n = f.n`);
    });

    afterAll(async () => {
      await db?.end();
      await stack?.stop();
    });

    it('never deletes, reverts or resurrects a record changed while a reconcile ran, and ends equal to PostgreSQL', async () => {
      const bucket = await openConfigBucket(await stack.natsClient());
      // Everything the bucket records, in its order, from now on.
      const history = new Map<string, Seen[]>();
      const watch = await bucket.watch({ key: '>' });
      const watching = (async () => {
        for await (const entry of watch) {
          if (!entry.key.startsWith('endpoints.') && !entry.key.startsWith('filters.')) continue;
          const value = entry.operation === 'PUT' ? (entry.json() as Record<string, any>) : null;
          const seen = history.get(entry.key) ?? [];
          seen.push({ operation: entry.operation, version: value?.version ?? -1, value });
          history.set(entry.key, seen);
        }
      })();
      // Its start reconciles every seeded filter against a bucket the first replica may still be filling.
      replicas.push(await stack.startReplica('api', { readyTimeoutMs: 90_000 }));

      const call = async (query: string, variables: Record<string, unknown>) => {
        const replica = replicas[Math.floor(Math.random() * replicas.length)]!;
        const result = await stack.graphql(query, variables, stack.token, replica);
        // A record another worker deleted meanwhile is a fair answer; anything else is not.
        if (result.errors && result.errors[0]!.extensions.code !== 'NOT_FOUND') throw new Error(JSON.stringify(result.errors));
        return result.data;
      };
      const { rows: seededFilters } = await db.query<{ id: string }>(`SELECT id FROM event_filter ORDER BY random() LIMIT ${WORKERS * OPERATIONS_PER_WORKER}`);
      const { rows: seededEndpoints } = await db.query<{ id: string }>('SELECT id FROM endpoint');
      const endpointIds = seededEndpoints.map((row) => row.id);
      // Deleted in the race below, under the filters that name them; the workers never pick them.
      const doomed = endpointIds.splice(0, 5);
      const pick = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)]!;

      const worker = async (index: number) => {
        const mine: string[] = [];
        const myEndpoints: string[] = [];
        for (let operation = 0; operation < OPERATIONS_PER_WORKER; operation += 1) {
          switch (operation % 6) {
            case 0: {
              const data = await call('mutation($input: EventFiltersInput!) { createEventFilters(eventFiltersInput: $input) { id } }', {
                input: { name: `w${index}-${operation}`, endpointIds: [pick(endpointIds)], in: { cameraIds: [randomUUID()] } },
              });
              mine.push(data.createEventFilters.id);
              break;
            }
            case 1:
            case 3:
              await call('mutation($id: ID!, $input: EventFiltersUpdateInput!) { updateEventFilters(id: $id, eventFiltersInput: $input) { id } }', {
                id: operation % 2 === 1 && mine.length > 0 ? pick(mine) : seededFilters[index * OPERATIONS_PER_WORKER + operation]!.id,
                input: { endpointIds: [pick(endpointIds)], in: { cameraIds: [randomUUID(), randomUUID()] } },
              });
              break;
            case 2:
              await call('mutation($id: ID!) { deleteEventFilters(id: $id) }', { id: seededFilters[index * OPERATIONS_PER_WORKER + operation]!.id });
              break;
            case 4: {
              const data = await call('mutation($name: String!) { createWebSocketEndpoint(name: $name) { id } }', { name: `w${index}-${operation}` });
              myEndpoints.push(data.createWebSocketEndpoint.id);
              await call('mutation($id: ID!, $name: String) { updateEndpoint(id: $id, name: $name) { id } }', { id: pick(myEndpoints), name: `renamed ${operation}` });
              break;
            }
            case 5:
              if (myEndpoints.length > 0) await call('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: myEndpoints.shift()! });
              if (mine.length > 1) await call('mutation($id: ID!) { deleteEventFilters(id: $id) }', { id: mine.shift()! });
              break;
          }
        }
      };
      // The same records changed and deleted at once through the two replicas; endpoints deleted under the filters that name them.
      const { rows: contested } = await db.query<{ id: string }>(
        `SELECT id FROM event_filter WHERE NOT (id = ANY($1::uuid[])) ORDER BY random() LIMIT ${CONTESTED}`,
        [seededFilters.map((row) => row.id)],
      );
      const onlyNotFound = (results: Array<{ errors?: Array<{ extensions: Record<string, any> }> }>) => {
        for (const result of results) if (result.errors && result.errors[0]!.extensions.code !== 'NOT_FOUND') throw new Error(JSON.stringify(result.errors));
      };
      const race = async () => {
        for (const { id } of contested) {
          onlyNotFound(await Promise.all([
            stack.graphql('mutation($id: ID!, $input: EventFiltersUpdateInput!) { updateEventFilters(id: $id, eventFiltersInput: $input) { id } }', { id, input: { in: { cameraIds: [randomUUID()] } } }, stack.token, replicas[0]),
            stack.graphql('mutation($id: ID!) { deleteEventFilters(id: $id) }', { id }, stack.token, replicas[1]),
          ]));
        }
        for (const endpointId of doomed) {
          const attached = (await db.query<{ event_filter_id: string }>('SELECT event_filter_id FROM event_filter_endpoint WHERE endpoint_id = $1 LIMIT 3', [endpointId])).rows;
          onlyNotFound(await Promise.all([
            stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: endpointId }, stack.token, replicas[1]),
            ...attached.map(({ event_filter_id: id }) =>
              stack.graphql('mutation($id: ID!, $input: EventFiltersUpdateInput!) { updateEventFilters(id: $id, eventFiltersInput: $input) { id } }', { id, input: { name: 'raced' } }, stack.token, replicas[0]),
            ),
          ]));
        }
      };
      // Changes no api call publishes: only the reconcile brings them to the bucket, while the edits go on.
      let editing = true;
      const behindTheApisBack = async () => {
        while (editing) {
          // One row per statement: several rows locked at once could deadlock with an api transaction locking several
          // (an endpoint's deletion detaching its filters), and either side may be the one PostgreSQL rolls back.
          const { rows } = await db.query<{ id: string }>('SELECT id FROM event_filter ORDER BY random() LIMIT 200');
          for (const { id } of rows) await db.query('UPDATE event_filter SET name = name WHERE id = $1', [id]);
          // Pacing a load, not waiting for a condition.
          await pause(100);
        }
      };
      const bumping = behindTheApisBack();
      await Promise.all([...Array.from({ length: WORKERS }, (_, index) => worker(index)), race()]);
      editing = false;
      await bumping;

      // Ends equal to PostgreSQL: every row at its version and content, nothing else.
      const mismatches = async (): Promise<string[]> => {
        const wrong: string[] = [];
        const latest = (key: string) => history.get(key)?.at(-1);
        const { rows: endpoints } = await db.query<{ id: string; name: string; version: string }>('SELECT id, name, version FROM endpoint');
        const { rows: filters } = await db.query<{ id: string; version: string; camera_ids: string[]; endpoint_ids: string[] }>(`
          SELECT f.id, f.version, f.camera_ids, coalesce(array_agg(j.endpoint_id ORDER BY j.endpoint_id) FILTER (WHERE j.endpoint_id IS NOT NULL), '{}') AS endpoint_ids
          FROM event_filter f LEFT JOIN event_filter_endpoint j ON j.event_filter_id = f.id GROUP BY f.id`);
        const expected = new Set<string>();
        for (const row of endpoints) {
          const key = ConfigKeys.endpoint(row.id);
          expected.add(key);
          const seen = latest(key);
          if (seen?.operation !== 'PUT' || seen.version !== Number(row.version) || seen.value!.name !== row.name) wrong.push(key);
        }
        for (const row of filters) {
          const key = ConfigKeys.filter(row.id);
          expected.add(key);
          const seen = latest(key);
          const same =
            seen?.operation === 'PUT' &&
            seen.version === Number(row.version) &&
            JSON.stringify([...seen.value!.endpointIds].sort()) === JSON.stringify(row.endpoint_ids) &&
            JSON.stringify(seen.value!.cameraIds) === JSON.stringify(row.camera_ids);
          if (!same) wrong.push(key);
        }
        for (const [key, seen] of history) if (seen.at(-1)!.operation === 'PUT' && !expected.has(key)) wrong.push(key);
        return wrong;
      };
      await waitFor(async () => (await mismatches()).length === 0, { timeoutMs: 30_000, what: 'the bucket to equal PostgreSQL' }).catch(async (error: Error) => {
        throw new Error(`${error.message}; differing keys: ${(await mismatches()).slice(0, 5).join(', ')}`);
      });
      expect(history.size).toBeGreaterThanOrEqual(SEEDED_FILTERS);

      // Never backwards: each key's versions only grow, and nothing comes back after a deletion.
      const backwards: string[] = [];
      for (const [key, seen] of history) {
        for (let index = 1; index < seen.length; index += 1) {
          const [before, after] = [seen[index - 1]!, seen[index]!];
          if (before.operation !== 'PUT' && after.operation === 'PUT') backwards.push(`${key}: written again after its deletion`);
          if (before.operation === 'PUT' && after.operation === 'PUT' && after.version <= before.version) {
            backwards.push(`${key}: version ${after.version} after ${before.version}`);
          }
        }
      }
      watch.stop();
      await watching;
      expect(backwards).toEqual([]);
    }, 300_000);
  });
}
