import { Injectable, ValidationPipe, type ArgumentMetadata, type ValidationError } from '@nestjs/common';
import { ApiError } from './api.error.js';
import { failingItem } from './input-rules.js';

/** class-validator's errors, from the exception factory to transform(), which knows the argument they were found in. */
class ArgumentViolations extends Error {
  constructor(readonly errors: ValidationError[]) {
    super('the argument breaks its input class rules');
  }
}

/**
 * The api's global pipe: every GraphQL argument of an input class
 * (`@InputType`, `@ArgsType`) is checked against the class-validator rules
 * of its class, and the first violation is the API's bad-input error
 * (ApiError.badInput: BAD_USER_INPUT, `field` the path, the message starting
 * with it). Scalar arguments (ids, dates) pass through: their own code parses
 * them (parseUuid).
 *
 * Paths start at the fields of an `@ArgsType` (`name`, `headers.1.name`) and
 * of an operation's single input object, an argument named `…Input` (OMNI's
 * `eventFiltersInput`: `in.cameraIds.0`); at the argument's name otherwise
 * (`filters.id.exact`, `pagination.limit`). A list's rule names the first
 * item that breaks it (ITEM_CHECK).
 *
 * Before any rule, every string of every argument (scalars too) is refused
 * when it holds a NUL character: PostgreSQL's text cannot store one, and no
 * field of this API means one.
 *
 * `transform`: the resolver gets an instance of the class, as its transforms
 * left it (names trimmed). No `whitelist`: GraphQL already refuses a field
 * outside the schema, and whitelisting would strip the fields that have no
 * rule of their own (enums, ids parsed later).
 */
@Injectable()
export class InputValidationPipe extends ValidationPipe {
  constructor() {
    super({ transform: true, stopAtFirstError: true, exceptionFactory: (errors) => new ArgumentViolations(errors) });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // GraphQL arguments reach pipes as 'body' (@nestjs/graphql's ARGS is Nest's BODY); the api's HTTP
    // routes take no body, so their parameters (the image id) pass unchanged.
    if (metadata.type !== 'body') return value;
    const nul = nulPath(value, rootOf(metadata.data));
    if (nul) throw ApiError.badInput(nul.join('.') || 'input', 'must not contain a NUL character (\\u0000)');
    try {
      return await super.transform(value, metadata);
    } catch (error) {
      if (error instanceof ArgumentViolations) throw argumentError(error.errors, metadata.data);
      throw error;
    }
  }
}

/** Where an argument's paths start: at its fields for an `@ArgsType` and an operation's single `…Input`, at its name otherwise. */
const rootOf = (argument: string | undefined): string[] => (argument === undefined || argument.endsWith('Input') ? [] : [argument]);

/** The path of the first string in `value` holding a NUL, or null. */
function nulPath(value: unknown, path: string[]): string[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (value === null || typeof value !== 'object' || value instanceof Date) return null;
  for (const [key, item] of Object.entries(value)) {
    const found = nulPath(item, [...path, key]);
    if (found) return found;
  }
  return null;
}

/** The first violation among `errors`, found in the argument named `argument` (none for an `@ArgsType`). */
function argumentError(errors: ValidationError[], argument: string | undefined): ApiError {
  const first = firstViolation(errors, rootOf(argument));
  // class-validator returns no error without a constraint somewhere below it.
  return first ? ApiError.badInput(first.field, first.message) : ApiError.badInput(argument ?? 'input', 'is invalid');
}

function firstViolation(errors: ValidationError[], path: string[]): { field: string; message: string } | null {
  for (const error of errors) {
    const here = [...path, error.property];
    const [constraint, message] = Object.entries(error.constraints ?? {})[0] ?? [];
    if (constraint !== undefined && message !== undefined) {
      const item = failingItem(error, constraint);
      return { field: (item === null ? here : [...here, String(item)]).join('.'), message };
    }
    const below = firstViolation(error.children ?? [], here);
    if (below) return below;
  }
  return null;
}
