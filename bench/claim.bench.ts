import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, migrateDatabase } from '@app/persistence';
import { DeliveryStore } from '../apps/webhook-dispatcher/src/delivery-store.js';
import { DATABASE_URL } from '../test/support/stack.js';

/**
 * What one claim of the retry scheduler costs (DeliveryStore.claimDue, as
 * the scheduler calls it every 100 ms: 200 at most, no endpoint with every
 * lane busy) with a million due deliveries of paused endpoints parked,
 * against the same claim with none parked (the baseline).
 *
 * Two schemas, made by the migrations, each with 100 endpoints paused by
 * hand, 20 active ones and 2,000 due deliveries of the active endpoints
 * (spread over the last 10 minutes). In one of them 1,000,000 deliveries of
 * the paused endpoints are parked too, held, as the projection writes them
 * while their endpoint is paused, due over the last 24 hours (so older than
 * the active ones: first in due order). Claims alternate between the two
 * schemas, so that the rest of the machine's load weighs on both alike; every
 * claim takes the same 200 deliveries, put back to due (claim cleared, not
 * timed) before the next.
 *
 * Also timed, with the backlog: holding and releasing an endpoint's 10,000
 * deliveries (the one UPDATE a pause or a resume costs), a probe's claim of a
 * paused endpoint, the reconciliation's look, and, for contrast, the claim
 * as it was before held rows (no `held` condition, its old index, the
 * paused endpoints in its skip list) over the same million rows. The schemas
 * are dropped at the end.
 */
const PAUSED_ENDPOINTS = 100;
const ACTIVE_ENDPOINTS = 20;
const BACKLOG = Number(process.env.CLAIM_BACKLOG ?? 1_000_000);
const ACTIVE_DUE = 2_000;
const HOLD_ROWS = 10_000;
const CLAIMS = Number(process.env.CLAIM_RUNS ?? 200);
const WARM_UP = 20;
const OLD_CLAIMS = 10;
const BATCH = 200;
const CLAIM_MS = 35_000;
/** A small event body (the benchmark is about rows, not bytes). */
const BODY_SQL = `convert_to('{"event":{"id":"' || i || '","type":"identification"}}', 'UTF8')`;

/** The claim before held rows (the scheduler's query until this change), timed for contrast only. */
const OLD_CLAIM_SQL = `UPDATE delivery_retry SET locked_until = now() + make_interval(secs => $2::double precision / 1000)
  WHERE id IN (
    SELECT retry.id FROM delivery_retry retry
    WHERE retry.failed_at IS NULL AND retry.next_attempt_at <= now()
      AND (retry.locked_until IS NULL OR retry.locked_until < LEAST(now(), $4::timestamptz))
      AND retry.endpoint_id <> ALL($3::uuid[]) AND retry.id <> ALL($5::bigint[])
    ORDER BY retry.next_attempt_at
    LIMIT $1
    FOR UPDATE OF retry SKIP LOCKED)
  RETURNING id`;

interface Figures {
  median: number;
  p99: number;
}

function figures(samples: number[]): Figures {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { median: at(0.5), p99: at(0.99) };
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

async function timed<T>(task: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const result = await task();
  return [performance.now() - start, result];
}

interface Database {
  schema: string;
  dataSource: DataSource;
  store: DeliveryStore;
  sql: <T>(text: string, parameters?: unknown[]) => Promise<T>;
  paused: string[];
  active: string[];
}

const admin = new pg.Client({ connectionString: DATABASE_URL });
await admin.connect();
const databases: Database[] = [];

/** A schema made by the migrations, with the paused and active endpoints and the active endpoints' due deliveries. */
async function database(name: string): Promise<Database> {
  const settings = { url: DATABASE_URL, schema: `bench_claim_${name}_${randomBytes(3).toString('hex')}` };
  await migrateDatabase(settings);
  const dataSource = await createDataSource(settings).initialize();
  const sql = <T>(text: string, parameters: unknown[] = []): Promise<T> => dataSource.query(text, parameters);
  const db: Database = { schema: settings.schema, dataSource, store: new DeliveryStore(dataSource), sql, paused: [], active: [] };
  databases.push(db);
  db.paused = await endpoints(db, PAUSED_ENDPOINTS, 'PAUSED_BY_HAND');
  db.active = await endpoints(db, ACTIVE_ENDPOINTS, 'ACTIVE');
  await park(db, db.active, ACTIVE_DUE, '10 minutes', false, 'active-');
  return db;
}

/** Endpoints of `state`, created in one statement. */
async function endpoints(db: Database, count: number, state: 'ACTIVE' | 'PAUSED_BY_HAND'): Promise<string[]> {
  const rows = await db.sql<Array<{ id: string }>>(
    `INSERT INTO endpoint (id, name, type, state) SELECT gen_random_uuid(), 'bench ' || i, 'WEB_HOOK', $2 FROM generate_series(1, $1) i RETURNING id`,
    [count, state],
  );
  return rows.map((row) => row.id);
}

/** `count` deliveries spread over `endpointIds`, due over the `spread` before now. */
async function park(db: Database, endpointIds: string[], count: number, spread: string, held: boolean, prefix: string): Promise<void> {
  await db.sql(
    `INSERT INTO delivery_retry (endpoint_id, event_id, body, attempt, next_attempt_at, held)
     SELECT ($1::uuid[])[1 + i % cardinality($1::uuid[])], $5 || i, ${BODY_SQL}, 2, now() - $3::interval * random(), $4
     FROM generate_series(1, $2) i`,
    [endpointIds, count, spread, held, prefix],
  );
  // As autovacuum would have, long before a backlog of a million rows.
  await admin.query(`VACUUM ANALYZE ${db.schema}.delivery_retry`);
}

/** The scheduler's claim; its skip list: the endpoints with every lane busy (none here). */
const claimOf = (db: Database) => async () => (await db.store.claimDue(BATCH, CLAIM_MS, [], new Date(), [])).map((delivery) => delivery.id);

/** One timed claim; the claimed rows are put back to due afterwards (not timed). */
async function claimOnce(db: Database, claim: () => Promise<string[]>): Promise<number> {
  const [took, ids] = await timed(claim);
  if (ids.length !== BATCH) throw new Error(`a claim took ${ids.length} deliveries, not ${BATCH}`);
  await db.sql('UPDATE delivery_retry SET locked_until = NULL WHERE id = ANY($1::bigint[])', [ids]);
  return took;
}

try {
  const baseline = await database('baseline');
  const backlog = await database('backlog');
  const [inserted] = await timed(() => park(backlog, backlog.paused, BACKLOG, '24 hours', true, 'paused-'));
  console.log(`parked ${BACKLOG.toLocaleString('en')} held deliveries of ${PAUSED_ENDPOINTS} paused endpoints in ${(inserted / 1_000).toFixed(1)} s (vacuum included)`);

  // Alternated, so that whatever else the machine does weighs on both alike.
  const bare: number[] = [];
  const held: number[] = [];
  for (let run = 0; run < WARM_UP + CLAIMS; run += 1) {
    const order = run % 2 === 0 ? [baseline, backlog] : [backlog, baseline];
    for (const db of order) {
      const took = await claimOnce(db, claimOf(db));
      if (run >= WARM_UP) (db === baseline ? bare : held).push(took);
    }
  }
  const [base, withBacklog] = [figures(bare), figures(held)];
  console.log(`claim of ${BATCH} among ${ACTIVE_DUE} due deliveries of ${ACTIVE_ENDPOINTS} active endpoints, ${CLAIMS} claims each:`);
  console.log(`  nothing else parked (baseline):              median ${ms(base.median)}, p99 ${ms(base.p99)}`);
  console.log(`  with the ${BACKLOG.toLocaleString('en')} paused deliveries held: median ${ms(withBacklog.median)}, p99 ${ms(withBacklog.p99)}`);
  console.log(`  ratio to the baseline:                       median ${(withBacklog.median / base.median).toFixed(2)}, p99 ${(withBacklog.p99 / base.p99).toFixed(2)}`);

  // A pause or a resume: one endpoint's waiting deliveries held, then released.
  const [holdEndpoint] = await endpoints(backlog, 1, 'ACTIVE');
  await park(backlog, [holdEndpoint!], HOLD_ROWS, '1 hour', false, 'hold-');
  const holds: number[] = [];
  const releases: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    const [holdTook, heldRows] = await timed(() => backlog.store.holdEndpoint(holdEndpoint!, true));
    const [releaseTook, releasedRows] = await timed(() => backlog.store.holdEndpoint(holdEndpoint!, false));
    if (heldRows !== HOLD_ROWS || releasedRows !== HOLD_ROWS) throw new Error(`held ${heldRows} and released ${releasedRows} rows, not ${HOLD_ROWS}`);
    holds.push(holdTook);
    releases.push(releaseTook);
  }
  const [againTook] = await timed(() => backlog.store.holdEndpoint(holdEndpoint!, false));
  console.log(
    `holding one endpoint's ${HOLD_ROWS.toLocaleString('en')} deliveries (one UPDATE): ${holds.map(ms).join(', ')}; releasing them: ${releases.map(ms).join(', ')}; releasing again (nothing to change): ${ms(againTook)}`,
  );

  const probes: number[] = [];
  for (let run = 0; run < 50; run += 1) {
    const [took, delivery] = await timed(() => backlog.store.claimOneOf(backlog.paused[run % PAUSED_ENDPOINTS]!, CLAIM_MS, new Date(), []));
    if (!delivery) throw new Error('a probe found nothing');
    probes.push(took);
    await backlog.sql('UPDATE delivery_retry SET locked_until = NULL WHERE id = $1', [delivery.id]);
  }
  const looks: number[] = [];
  for (let run = 0; run < 20; run += 1) {
    const [took, found] = await timed(() => backlog.store.endpointsWithHeldDeliveries());
    if (found.length !== PAUSED_ENDPOINTS) throw new Error(`found ${found.length} endpoints with held deliveries, not ${PAUSED_ENDPOINTS}`);
    looks.push(took);
  }
  console.log(
    `a probe's claim of a paused endpoint (${(BACKLOG / PAUSED_ENDPOINTS).toLocaleString('en')} held deliveries): median ${ms(figures(probes).median)}; the reconciliation's look (endpoints with held deliveries): median ${ms(figures(looks).median)}`,
  );

  // For contrast: the claim before this change, with its index and its skip list (the paused endpoints), over the same rows (`held` means nothing to it).
  const [indexed] = await timed(() => backlog.sql('CREATE INDEX bench_old_due_idx ON delivery_retry (next_attempt_at) WHERE failed_at IS NULL'));
  await admin.query(`ANALYZE ${backlog.schema}.delivery_retry`);
  const old: number[] = [];
  const oldClaim = async () =>
    (await backlog.sql<[Array<{ id: string }>, number]>(OLD_CLAIM_SQL, [BATCH, CLAIM_MS, backlog.paused, new Date(), []]))[0].map((row) => row.id);
  for (let run = 0; run < 1 + OLD_CLAIMS; run += 1) {
    const took = await claimOnce(backlog, oldClaim);
    if (run >= 1) old.push(took);
  }
  const before = figures(old);
  console.log(
    `before held rows, the same backlog (the old claim and its index, built in ${ms(indexed)}): median ${ms(before.median)}, p99 ${ms(before.p99)} (${OLD_CLAIMS} claims); ${(before.median / base.median).toFixed(0)}× the baseline`,
  );
} finally {
  for (const db of databases) {
    await db.dataSource.destroy();
    await admin.query(`DROP SCHEMA ${db.schema} CASCADE`);
  }
  await admin.end();
}
process.exit(0);
