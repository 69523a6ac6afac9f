import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { retryOnConflict } from '@app/persistence';
import { isConflict } from '@app/runtime';
import { DATABASE_URL } from './support/stack.js';

/** Resolves once `count` have arrived; later arrivals (a retry) pass at once. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived >= count) open();
    return opened;
  };
}

/** Two api replicas' transactions that lock the same rows in opposite orders, against the real PostgreSQL. */
describe('a transaction PostgreSQL rolls back for a concurrent one', () => {
  const schema = `conflict_${randomBytes(4).toString('hex')}`;
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
    await pool.query(`CREATE SCHEMA ${schema}; CREATE TABLE ${schema}.row (id int PRIMARY KEY, changes int NOT NULL DEFAULT 0); INSERT INTO ${schema}.row (id) VALUES (1), (2)`);
  });

  afterAll(async () => {
    await pool?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool?.end();
  });

  /** Changes row `first`, then (once the other transaction holds its own first row) row `second`, in one transaction. */
  const crossing = (first: number, second: number, bothHoldOne: () => Promise<void>) => async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE ${schema}.row SET changes = changes + 1 WHERE id = $1`, [first]);
      await bothHoldOne();
      await client.query(`UPDATE ${schema}.row SET changes = changes + 1 WHERE id = $1`, [second]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };

  const changes = async () => (await pool.query<{ changes: number }>(`SELECT changes FROM ${schema}.row ORDER BY id`)).rows.map((row) => row.changes);

  it('fails one of two crossing transactions with a deadlock when nothing runs it again', async () => {
    await pool.query(`UPDATE ${schema}.row SET changes = 0`);
    const bothHoldOne = barrier(2);
    const results = await Promise.allSettled([crossing(1, 2, bothHoldOne)(), crossing(2, 1, bothHoldOne)()]);
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    expect(failed.map((result) => isConflict(result.reason))).toEqual([true]);
    // Only the other one's changes were kept.
    expect(await changes()).toEqual([1, 1]);
  });

  it('commits both when the one rolled back runs again, each change kept once', async () => {
    await pool.query(`UPDATE ${schema}.row SET changes = 0`);
    const bothHoldOne = barrier(2);
    await Promise.all([retryOnConflict(crossing(1, 2, bothHoldOne)), retryOnConflict(crossing(2, 1, bothHoldOne))]);
    expect(await changes()).toEqual([2, 2]);
  });

  it('knows the deadlock when TypeORM wraps the driver error, as the api sees it', async () => {
    const bothHoldOne = barrier(2);
    const [failed] = (await Promise.allSettled([crossing(1, 2, bothHoldOne)(), crossing(2, 1, bothHoldOne)()])).filter((result) => result.status === 'rejected');
    const driverError = (failed as PromiseRejectedResult).reason as Error;
    expect(isConflict(new QueryFailedError('UPDATE', [], driverError))).toBe(true);
  });

  it('passes any other error on at once', async () => {
    let attempts = 0;
    const failing = retryOnConflict(async () => {
      attempts += 1;
      await pool.query(`SELECT * FROM ${schema}.no_such_table`);
    });
    await expect(failing).rejects.toThrow('does not exist');
    expect(attempts).toBe(1);
  });
});
