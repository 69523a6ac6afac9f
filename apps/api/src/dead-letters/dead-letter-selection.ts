import type { DeadLetterSelection } from '@app/domain';
import type { DeadLetterFilters } from './dead-letter.model.js';

/** The one value or the list a filter gives, or undefined when it does not restrict. */
function valuesOf<T>(filter: { exact?: T | null; in?: T[] | null } | undefined): T[] | undefined {
  if (!filter) return undefined;
  if (filter.exact !== undefined && filter.exact !== null) return [filter.exact];
  return filter.in ?? undefined;
}

/** The GraphQL filters (checked by their rules) as the selection the list and the dispatcher's commands share. */
export function selectionOf(filters: DeadLetterFilters | undefined): DeadLetterSelection {
  const date = filters?.deadLetteredAt;
  const bounds = Object.fromEntries(
    (['gt', 'gte', 'lt', 'lte'] as const).filter((bound) => date?.[bound] instanceof Date).map((bound) => [bound, date![bound]!.toISOString()]),
  );
  return {
    ids: valuesOf(filters?.id),
    apps: valuesOf(filters?.app),
    reasons: valuesOf(filters?.reason),
    states: valuesOf(filters?.state),
    ...(Object.keys(bounds).length > 0 ? { deadLetteredAt: bounds } : {}),
  };
}
