import { Field, ID, InputType, Int, registerEnumType } from '@nestjs/graphql';
import { idKey } from '@app/events';
import { ApiError } from './api.error.js';

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(SortDirection, { name: 'SortDirection' });

/** OMNI's operator object for ids. */
@InputType()
export class IdFilter {
  @Field(() => ID, { nullable: true })
  exact?: string;

  @Field(() => [ID], { nullable: true })
  in?: string[];
}

@InputType()
export class Pagination {
  @Field(() => Int, { nullable: true, defaultValue: 0 })
  offset?: number;

  @Field(() => Int, { nullable: true, defaultValue: 50 })
  limit?: number;
}

export const MAX_PAGE_SIZE = 1_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id argument, checked to be a UUID and returned as its key (idKey):
 * UUIDs compare case-insensitively, so an id in upper case finds the same
 * record, and the api stores and looks up keys only.
 */
export function parseUuid(field: string, value: string): string {
  if (!UUID.test(value)) throw ApiError.badInput(field, 'must be a UUID');
  return idKey(value);
}

/** The ids (keys) an IdFilter admits, or null when it does not restrict. */
export function idsOf(field: string, filter: IdFilter | undefined): string[] | null {
  if (!filter) return null;
  if (filter.exact !== undefined && filter.exact !== null) {
    return [parseUuid(`${field}.exact`, filter.exact)];
  }
  if (filter.in) {
    return filter.in.map((id, index) => parseUuid(`${field}.in.${index}`, id));
  }
  return null;
}

export function pageOf(pagination: Pagination | undefined): { offset: number; limit: number } {
  const offset = pagination?.offset ?? 0;
  const limit = pagination?.limit ?? 50;
  if (!Number.isInteger(offset) || offset < 0) throw ApiError.badInput('pagination.offset', 'must be 0 or more');
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw ApiError.badInput('pagination.limit', `must be between 1 and ${MAX_PAGE_SIZE}`);
  }
  return { offset, limit };
}
