import { describe, expect, it } from '@jest/globals';
import { isTransientFailure } from './transient-failure.js';

/** An error as TypeORM throws it for a failed query: the driver's error, with its SQLSTATE, inside. */
const queryFailed = (code: string) => Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('driver'), { code }) });

describe('isTransientFailure', () => {
  it.each([
    ['a connection refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a deadlock', queryFailed('40P01')],
    ['a lock not obtained within lock_timeout (a migration while the table is busy)', queryFailed('55P03')],
    ['the database starting up', queryFailed('57P03')],
  ])('waits and retries %s', (_case, error) => {
    expect(isTransientFailure(error)).toBe(true);
  });

  it.each([
    ['a syntax error', queryFailed('42601')],
    ['a unique violation', queryFailed('23505')],
    ['a wrong password', queryFailed('28P01')],
  ])('fails at once on %s', (_case, error) => {
    expect(isTransientFailure(error)).toBe(false);
  });
});
