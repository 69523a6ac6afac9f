import { Field, ID, InputType, Int, registerEnumType } from '@nestjs/graphql';
import { IsOptional, Max, Min } from 'class-validator';
import { idKey } from '@app/events';
import { ApiError } from './api.error.js';
import { IsId, IsIds } from './input-rules.js';

export enum SortDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(SortDirection, { name: 'SortDirection' });

/** OMNI's operator object for ids. */
@InputType()
export class IdFilter {
  @Field(() => ID, { nullable: true })
  @IsOptional()
  @IsId()
  exact?: string;

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @IsIds()
  in?: string[];
}

export const MAX_PAGE_SIZE = 1_000;

@InputType()
export class Pagination {
  @Field(() => Int, { nullable: true, defaultValue: 0 })
  @IsOptional()
  @Min(0, { message: 'must be 0 or more' })
  offset?: number;

  @Field(() => Int, { nullable: true, defaultValue: 50 })
  @IsOptional()
  @Min(1, { message: `must be between 1 and ${MAX_PAGE_SIZE}` })
  @Max(MAX_PAGE_SIZE, { message: `must be between 1 and ${MAX_PAGE_SIZE}` })
  limit?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An id argument (a scalar, which no input class's rule checks), checked to
 * be a UUID and returned as its key (idKey): UUIDs compare
 * case-insensitively, so an id in upper case finds the same record, and the
 * api stores and looks up keys only.
 */
export function parseUuid(field: string, value: string): string {
  if (!UUID.test(value)) throw ApiError.badInput(field, 'must be a UUID');
  return idKey(value);
}

/** The keys (idKey) of ids checked by their input class's rules, each once, in their order. */
export function keysOf(ids: readonly string[]): string[] {
  return [...new Set(ids.map(idKey))];
}

/** The ids (keys) an IdFilter (checked by its rules) admits, or null when it does not restrict. */
export function idsOf(filter: IdFilter | undefined): string[] | null {
  if (!filter) return null;
  if (filter.exact !== undefined && filter.exact !== null) return [idKey(filter.exact)];
  if (filter.in) return filter.in.map(idKey);
  return null;
}

/** The answer of a list whose filters (or the token's reach) admit nothing: no query run. */
export const emptyPage = <T>(): { totalCount: number; collectionItems: T[] } => ({ totalCount: 0, collectionItems: [] });

/** A page (checked by Pagination's rules), with its defaults. */
export function pageOf(pagination: Pagination | undefined): { offset: number; limit: number } {
  return { offset: pagination?.offset ?? 0, limit: pagination?.limit ?? 50 };
}
