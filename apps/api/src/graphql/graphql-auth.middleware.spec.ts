import { describe, expect, it, jest } from '@jest/globals';
import { isTypenameProbe, MAX_PROBE_LENGTH } from './graphql-auth.middleware.js';

describe('the anonymous __typename probe', () => {
  it.each(['{ __typename }', '{__typename}', '  query { __typename }  ', 'query Probe { __typename }', 'query\n{\n  __typename\n}'])('lets %j through', (query) => {
    expect(isTypenameProbe(query)).toBe(true);
  });

  it.each(['{ __typename endpoints { totalCount } }', 'mutation { __typename }', 'query 1x { __typename }', '{ __schema { types { name } } }', 42, null])('refuses %j', (query) => {
    expect(isTypenameProbe(query)).toBe(false);
  });

  it('runs no pattern over a text longer than a probe: the cost of refusing it does not grow with it', () => {
    const test = jest.spyOn(RegExp.prototype, 'test');
    try {
      for (const query of [`query${' '.repeat(40_000)}x`, `{ __typename }${' '.repeat(MAX_PROBE_LENGTH)}`]) expect(isTypenameProbe(query)).toBe(false);
      expect(test).not.toHaveBeenCalled();
    } finally {
      test.mockRestore();
    }
  });
});
