import { describe, expect, it } from '@jest/globals';
import { duplicateKeyOf } from './duplicate-keys.js';

describe('duplicateKeyOf', () => {
  it('finds none in an event without duplicates, however its strings look', () => {
    expect(duplicateKeyOf('{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}],"d":"\\"a\\":1,","e":{}}')).toBeNull();
    expect(duplicateKeyOf('[1,{"x":[]},"{\\"x\\":1}"]')).toBeNull();
  });

  it('names the path of a duplicate at the top, in a nested object and in an array element', () => {
    expect(duplicateKeyOf('{"type":"a","type":"b"}')).toBe('type');
    expect(duplicateKeyOf('{"camera":{"id":"x","agent_id":"y","id":"z"}}')).toBe('camera.id');
    expect(duplicateKeyOf('{"candidates":[{"id":1},{"id":2,"x":{},"id":3}]}')).toBe('candidates.1.id');
  });

  it('compares keys as JSON reads them: an escape spells the same key', () => {
    expect(duplicateKeyOf('{"id":1,"\\u0069d":2}')).toBe('id');
    expect(duplicateKeyOf('{"a\\"b":1,"a\\"c":2}')).toBeNull();
  });
});
