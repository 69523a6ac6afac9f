import { MAX_DEAD_LETTERS_PER_COMMAND } from '@app/domain';
import { CliError, graphql, table, type ServiceOptions } from './service.js';

/** The filters the dead-letters commands take (repeatable ones as lists). */
export interface DeadLetterOptions {
  id: string[];
  app: string[];
  reason: string[];
  state: string[];
  since?: Date;
  until?: Date;
}

export interface DeadLetter {
  id: string;
  app: string;
  consumer: string;
  reason: string;
  detail: string;
  deadLetteredAt: string;
  sourceSubject: string;
  eventId: string | null;
  message: string;
  state: string;
  resolvedAt: string | null;
}

/** The GraphQL DeadLetterFilters of the options. */
export function filtersOf(options: DeadLetterOptions): Record<string, unknown> {
  const list = (values: string[]) => (values.length > 0 ? { in: values } : undefined);
  const filters: Record<string, unknown> = {
    id: list(options.id),
    app: list(options.app),
    reason: list(options.reason),
    state: list(options.state.map((state) => state.toUpperCase())),
    deadLetteredAt: options.since || options.until ? { gte: options.since?.toISOString(), lte: options.until?.toISOString() } : undefined,
  };
  return Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined));
}

const FIELDS = 'id app consumer reason detail deadLetteredAt sourceSubject eventId message state resolvedAt';

/** The dead letters of the filters, newest first: up to `limit`, and how many there are in all. */
export async function listDeadLetters(service: ServiceOptions, options: DeadLetterOptions, limit: number): Promise<{ totalCount: number; collectionItems: DeadLetter[] }> {
  const data = await graphql<{ deadLetters: { totalCount: number; collectionItems: DeadLetter[] } }>(
    service,
    `query($filters: DeadLetterFilters, $limit: Int) { deadLetters(filters: $filters, pagination: { limit: $limit }) { totalCount collectionItems { ${FIELDS} } } }`,
    { filters: filtersOf(options), limit },
  );
  return data.deadLetters;
}

/** One line per dead letter: id, when, app, reason, state, detail (cut), and a heading. */
export function deadLetterTable(letters: DeadLetter[]): string {
  const cut = (text: string, length: number) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);
  return table(
    ['ID', 'DEAD-LETTERED', 'APP', 'REASON', 'STATE', 'DETAIL'],
    letters.map((letter) => [letter.id, letter.deadLetteredAt, letter.app, letter.reason, letter.state, cut(letter.detail.replace(/\s+/g, ' '), 80)]),
  );
}

/**
 * Resubmits or discards the OPEN dead letters of the filters, a command at
 * a time (each does at most MAX_DEAD_LETTERS_PER_COMMAND), until one does
 * fewer; only those dead-lettered up to the newest when it started (by the
 * service's own time), so that what fails again is not sent round again. Refuses to act on every dead letter
 * without `all`.
 */
export async function actOnDeadLetters(service: ServiceOptions, action: 'resubmit' | 'discard', options: DeadLetterOptions, all: boolean): Promise<number> {
  const filters = filtersOf(options);
  if (Object.keys(filters).length === 0 && !all) throw new CliError(`${action}: give filters (--id, --app, --reason, --since, --until), or --all for every open dead letter`);
  // Pinned to the newest dead letter there is now, by its own time (the service's clock, not this machine's).
  const newest = await graphql<{ deadLetters: { collectionItems: Array<{ deadLetteredAt: string }> } }>(
    service,
    '{ deadLetters(order: { deadLetteredAt: DESC }, pagination: { limit: 1 }) { collectionItems { deadLetteredAt } } }',
  );
  const newestAt = newest.deadLetters.collectionItems[0]?.deadLetteredAt;
  if (!newestAt) return 0;
  const upTo = options.until && options.until.getTime() < Date.parse(newestAt) ? options.until.toISOString() : newestAt;
  const pinned = { ...filters, deadLetteredAt: { ...(filters.deadLetteredAt as object | undefined), lte: upTo } };
  const mutation = action === 'resubmit' ? 'resubmitDeadLetters' : 'discardDeadLetters';
  let total = 0;
  for (;;) {
    const data = await graphql<Record<string, number>>(service, `mutation($filters: DeadLetterFilters!) { ${mutation}(filters: $filters) }`, { filters: pinned });
    const count = data[mutation]!;
    total += count;
    if (count < MAX_DEAD_LETTERS_PER_COMMAND) return total;
  }
}
