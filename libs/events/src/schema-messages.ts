import { z } from 'zod';

/** JSON's name for a value's type, as error messages show it (`null` and `array` apart from `object`). */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

const ARTICLES: Record<string, string> = { object: 'an object', array: 'an array', int: 'an integer' };

/** `a string`, `an object`, … for zod's name of an expected type. */
function described(expected: string): string {
  return ARTICLES[expected] ?? `a ${expected}`;
}

/**
 * What a field of the wrong type is told: `is required` when it is absent
 * (JSON has no `undefined`), else `must be <expected> (got <type>)`.
 */
export function wrongTypeMessage(expected: string, input: unknown): string {
  return input === undefined ? 'is required' : `must be ${expected} (got ${jsonTypeOf(input)})`;
}

/**
 * The error map schemas of JSON input are parsed with: a wrong type is
 * reported as a wrong type, a field that must be absent as such, and
 * "is required" only for a field that is missing. Messages a schema sets
 * itself take precedence.
 */
export const schemaMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'never') return issue.input === undefined ? undefined : 'must be absent';
      return wrongTypeMessage(described(issue.expected), issue.input);
    case 'too_small':
      return issue.origin === 'number' ? `must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}` : undefined;
    case 'too_big':
      return issue.origin === 'number' ? `must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}` : undefined;
    default:
      return undefined;
  }
};

/**
 * A UUID field: `must be a UUID` for a string that is not one; a missing
 * field or another type is told by schemaMessages like any other.
 */
export function uuidSchema() {
  return z.guid({ error: (issue) => (issue.code === 'invalid_format' ? 'must be a UUID' : undefined) });
}

/** The dotted path and the message of the first issue, for a 400 answer or a dead-letter reason. */
export function firstIssue(error: z.ZodError, root: readonly string[] = []): { field: string | null; message: string } {
  const issue = error.issues[0]!;
  const path = [...root, ...issue.path.map(String)];
  return { field: path.length > 0 ? path.join('.') : null, message: issue.message };
}
