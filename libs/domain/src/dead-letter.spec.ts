import { describe, expect, it } from '@jest/globals';
import { parseDeadLetterCommand } from './dead-letter.js';

describe('parseDeadLetterCommand', () => {
  it('takes a resubmit or discard with checked filters', () => {
    const command = { action: 'resubmit', filters: { ids: ['12'], apps: ['ingest'], reasons: ['INVALID_EVENT'], states: ['OPEN'], deadLetteredAt: { gte: '2026-01-01T00:00:00.000Z' } } };
    expect(parseDeadLetterCommand(command)).toEqual(command);
    expect(parseDeadLetterCommand({ action: 'discard', filters: {} })).toEqual({ action: 'discard', filters: {} });
  });

  it('refuses anything else', () => {
    for (const bad of [
      null,
      'resubmit',
      { action: 'delete', filters: {} },
      { action: 'resubmit' },
      { action: 'resubmit', filters: { ids: ['1; DROP TABLE dead_letter'] } },
      { action: 'resubmit', filters: { states: ['GONE'] } },
      { action: 'resubmit', filters: { apps: 'ingest' } },
      { action: 'resubmit', filters: { deadLetteredAt: { since: '2026-01-01T00:00:00Z' } } },
      { action: 'resubmit', filters: { deadLetteredAt: { gt: 'yesterday' } } },
    ]) {
      expect({ bad, parsed: parseDeadLetterCommand(bad) }).toEqual({ bad, parsed: null });
    }
  });
});
