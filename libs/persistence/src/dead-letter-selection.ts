import type { DeadLetterSelection } from '@app/domain';

/**
 * The SQL condition on `dead_letter` a selection makes, with its parameters
 * numbered from `$<first>`: one translation for the api's list and the
 * dispatcher's commands, so that a command acts on what the same filters list.
 */
export function deadLetterCondition(selection: DeadLetterSelection, first = 1): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${first + params.length - 1}`;
  };
  if (selection.ids) conditions.push(`seq = ANY (${param(selection.ids)}::bigint[])`);
  if (selection.apps) conditions.push(`app = ANY (${param(selection.apps)}::text[])`);
  if (selection.reasons) conditions.push(`reason = ANY (${param(selection.reasons)}::text[])`);
  if (selection.states) conditions.push(`state = ANY (${param(selection.states)}::text[])`);
  const operators = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
  for (const [bound, operator] of Object.entries(operators)) {
    const instant = selection.deadLetteredAt?.[bound as keyof typeof operators];
    if (instant !== undefined) conditions.push(`dead_lettered_at ${operator} ${param(instant)}::timestamptz`);
  }
  return { sql: conditions.length > 0 ? conditions.join(' AND ') : 'TRUE', params };
}
