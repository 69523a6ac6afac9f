import { describe, expect, it } from '@jest/globals';
import { MAX_NESTING, shapeProblemOf } from './duplicate-keys.js';

describe('shapeProblemOf', () => {
  it('finds none in an event without duplicates, however its strings look', () => {
    expect(shapeProblemOf('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}],"d":"\\"a\\":1,","e":{}}')).toBeNull();
    expect(shapeProblemOf('[1,{"x":[]},"{\\"x\\":1}"]')).toBeNull();
  });

  it('names the path of a duplicate at the top, in a nested object and in an array element', () => {
    expect(shapeProblemOf('{"type":"a","type":"b"}')).toEqual({ kind: 'duplicate-key', path: 'type' });
    expect(shapeProblemOf('{"camera":{"id":"x","agent_id":"y","id":"z"}}')).toEqual({ kind: 'duplicate-key', path: 'camera.id' });
    expect(shapeProblemOf('{"candidates":[{"id":1},{"id":2,"x":{},"id":3}]}')).toEqual({ kind: 'duplicate-key', path: 'candidates.1.id' });
  });

  it('compares keys as JSON reads them: an escape spells the same key', () => {
    expect(shapeProblemOf('{"id":1,"\\u0069d":2}')).toEqual({ kind: 'duplicate-key', path: 'id' });
    expect(shapeProblemOf('{"a\\"b":1,"a\\"c":2}')).toBeNull();
  });

  it('names the path of the first value nested deeper than MAX_NESTING, and passes one as deep as that', () => {
    const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    expect(shapeProblemOf(nested(MAX_NESTING))).toBeNull();
    expect(shapeProblemOf(nested(MAX_NESTING + 1))).toEqual({ kind: 'too-deep', path: ['a', ...Array(MAX_NESTING - 1).fill('0')].join('.') });
    expect(shapeProblemOf(`{"x":1,"y":{"z":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`)).toEqual({ kind: 'too-deep', path: ['y', 'z', ...Array(MAX_NESTING - 2).fill('0')].join('.') });
  });
});
