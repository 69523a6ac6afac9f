import { describe, expect, it } from '@jest/globals';
import { deadLetterCondition } from './dead-letter-selection.js';

describe('deadLetterCondition', () => {
  it('is TRUE for an empty selection', () => {
    expect(deadLetterCondition({})).toEqual({ sql: 'TRUE', params: [] });
  });

  it('ANDs every given field, with parameters numbered from the first given', () => {
    expect(deadLetterCondition({ ids: ['7'], apps: ['ingest'], states: ['OPEN'], deadLetteredAt: { gte: '2026-01-01T00:00:00Z', lt: '2026-01-02T00:00:00Z' } }, 3)).toEqual({
      sql: 'seq = ANY ($3::bigint[]) AND app = ANY ($4::text[]) AND state = ANY ($5::text[]) AND dead_lettered_at >= $6::timestamptz AND dead_lettered_at < $7::timestamptz',
      params: [['7'], ['ingest'], ['OPEN'], '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'],
    });
  });
});
