/** Where a dead letter stands: kept as it came (OPEN), sent back where it came from (RESUBMITTED), or put aside (DISCARDED). */
export const DeadLetterState = {
  OPEN: 'OPEN',
  RESUBMITTED: 'RESUBMITTED',
  DISCARDED: 'DISCARDED',
} as const;
export type DeadLetterState = (typeof DeadLetterState)[keyof typeof DeadLetterState];
export const DEAD_LETTER_STATES = Object.values(DeadLetterState);

/**
 * Which dead letters a list or a command is about: every field that is
 * given narrows it (AND), a list admits any of its values. Ids are the
 * dead-letter stream's sequences, in decimal; instants are ISO 8601.
 */
export interface DeadLetterSelection {
  ids?: string[];
  apps?: string[];
  reasons?: string[];
  states?: DeadLetterState[];
  deadLetteredAt?: { gt?: string; gte?: string; lt?: string; lte?: string };
}

/** The most dead letters one resubmit or discard command acts on; a larger set takes several (each answers how many it did). */
export const MAX_DEAD_LETTERS_PER_COMMAND = 10_000;

/** The api's command to the webhook-dispatcher, which owns the dead letters' table; only OPEN ones are acted on. */
export interface DeadLetterCommand {
  action: 'resubmit' | 'discard';
  filters: DeadLetterSelection;
}

/** The dispatcher's answer: how many it resubmitted or discarded, or why it could not. */
export type DeadLetterCommandAnswer = { count: number } | { error: string };

const DECIMAL = /^[0-9]{1,18}$/;

/** A command as the dispatcher received it, checked field by field; null when it is not one. */
export function parseDeadLetterCommand(value: unknown): DeadLetterCommand | null {
  if (!isObject(value) || (value.action !== 'resubmit' && value.action !== 'discard') || !isObject(value.filters)) return null;
  const { ids, apps, reasons, states, deadLetteredAt } = value.filters;
  const strings = (list: unknown, valid: (item: string) => boolean = () => true) => list === undefined || (Array.isArray(list) && list.every((item) => typeof item === 'string' && valid(item)));
  if (!strings(ids, (id) => DECIMAL.test(id)) || !strings(apps) || !strings(reasons) || !strings(states, (state) => (DEAD_LETTER_STATES as string[]).includes(state))) return null;
  if (deadLetteredAt !== undefined) {
    if (!isObject(deadLetteredAt)) return null;
    for (const [bound, instant] of Object.entries(deadLetteredAt)) {
      if (!['gt', 'gte', 'lt', 'lte'].includes(bound) || typeof instant !== 'string' || Number.isNaN(Date.parse(instant))) return null;
    }
  }
  return { action: value.action, filters: value.filters as DeadLetterSelection };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
