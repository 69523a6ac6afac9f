import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsDate, IsOptional, IsUUID, isUUID, MaxDate, MinDate, type ValidationError } from 'class-validator';

/**
 * The context key under which a rule given with `each` passes its check of
 * one item: class-validator reports such a rule on the whole list, and
 * InputValidationPipe uses the check to name the first item that fails it
 * (`in.cameraIds.1`), as the field of the error.
 */
export const ITEM_CHECK = 'itemCheck';

/**
 * Ids are UUIDs of any version and variant, in any case (DESIGN: compared
 * case-insensitively, through idKey); validator's `loose` UUID is exactly that.
 */
const isId = (value: unknown): boolean => isUUID(value, 'loose');

/** A UUID (any version, any case). */
export function IsId(): PropertyDecorator {
  return IsUUID('loose', { message: 'must be a UUID' });
}

/** A list of UUIDs (of at most `max` values when given); the error names the first value that is not one. */
export function IsIds(max?: number): PropertyDecorator {
  const each = IsUUID('loose', { each: true, message: 'must be a UUID', context: { [ITEM_CHECK]: isId } });
  if (max === undefined) return each;
  // The size is checked first: a list too long is refused as such, whatever its values.
  return applyDecorators(ArrayMaxSize(max, { message: `must have at most ${max} values` }), each);
}

/** An optional date-time (a DateTime scalar's value) that PostgreSQL can compare: a valid one, from year 1 to 9999. */
export function IsDateTime(): PropertyDecorator {
  const message = 'must be a date-time such as 2019-12-03T09:54:33Z, from year 1 to 9999';
  return applyDecorators(IsOptional(), IsDate({ message }), MinDate(new Date('0001-01-01T00:00:00Z'), { message }), MaxDate(new Date('9999-12-31T23:59:59.999Z'), { message }));
}

/** A string field without its surrounding white space (before its rules are checked). */
export function Trimmed(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));
}

/** For a rule given with `each` (and its ITEM_CHECK), the index of the first item of the list that fails it. */
export function failingItem(error: ValidationError, constraint: string): number | null {
  const check: unknown = error.contexts?.[constraint]?.[ITEM_CHECK];
  if (typeof check !== 'function' || !Array.isArray(error.value)) return null;
  const index = (error.value as unknown[]).findIndex((item) => !check(item));
  return index >= 0 ? index : null;
}
