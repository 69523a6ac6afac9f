import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { ApiLoaders } from './loaders.js';

/** A DataSource that records each SQL query and answers each with one zero bucket per endpoint asked. */
function countingDataSource(): { dataSource: DataSource; queries: Array<{ endpointIds: string[]; hours: number }> } {
  const queries: Array<{ endpointIds: string[]; hours: number }> = [];
  const query = async (_sql: string, [endpointIds, hours]: [string[], number]) => {
    queries.push({ endpointIds, hours });
    return endpointIds.map((endpoint_id) => ({ endpoint_id, from: new Date(0), succeeded: hours, retrying: 0, failed: 0 }));
  };
  return { dataSource: { query } as unknown as DataSource, queries };
}

describe('ApiLoaders.outcomesOf', () => {
  it('counts the delivery outcomes of a page of endpoints in one query per number of hours asked', async () => {
    const { dataSource, queries } = countingDataSource();
    const loaders = new ApiLoaders(dataSource);
    const [one, two, three, week] = await Promise.all([
      loaders.outcomesOf.load({ endpointId: 'a', hours: 24 }),
      loaders.outcomesOf.load({ endpointId: 'b', hours: 24 }),
      loaders.outcomesOf.load({ endpointId: 'c', hours: 24 }),
      loaders.outcomesOf.load({ endpointId: 'a', hours: 168 }),
    ]);
    expect(queries).toEqual([
      { endpointIds: ['a', 'b', 'c'], hours: 24 },
      { endpointIds: ['a'], hours: 168 },
    ]);
    expect([one, two, three, week].map((buckets) => buckets.map((bucket) => bucket.succeeded))).toEqual([[24], [24], [24], [168]]);
  });
});
