import { describe, expect, it } from '@jest/globals';
import { BUSY_DELAY_MS, DeliveryState, NOT_YET_DELAY_MS, transition, type DeliveryEvent } from './delivery-transitions.js';

const NOW = Date.parse('2026-12-06T10:00:00Z');
const at = (ms: number) => new Date(ms).toISOString();

describe('a webhook delivery’s transitions', () => {
  it('parks a fresh delivery that cannot go now for its first attempt, and a claimed one for the attempt it was due for', () => {
    const cases: Array<[DeliveryEvent, number]> = [
      [{ kind: 'busy', retryInMs: 0 }, NOW],
      [{ kind: 'busy', retryInMs: 750 }, NOW + 750],
      [{ kind: 'unsigned' }, NOW + NOT_YET_DELAY_MS],
      [{ kind: 'resent', at: NOW + 5_000 }, NOW + 5_000],
    ];
    for (const [event, due] of cases) {
      expect([event, transition(DeliveryState.FRESH, 1, event, NOW)]).toEqual([event, { to: DeliveryState.WAITING, ledger: { kind: 'park', attempt: 1, at: at(due) } }]);
    }
    // A claimed delivery whose endpoint is busy waits at least until a lane may free, not in a tight loop.
    expect(transition(DeliveryState.CLAIMED, 4, { kind: 'busy', retryInMs: 0 }, NOW)).toEqual({
      to: DeliveryState.WAITING,
      ledger: { kind: 'park', attempt: 4, at: at(NOW + BUSY_DELAY_MS) },
    });
  });

  it('holds a delivery of a paused endpoint, and asks for the rest of its endpoint’s only when a claim found it unheld', () => {
    expect(transition(DeliveryState.FRESH, 1, { kind: 'paused' }, NOW)).toEqual({ to: DeliveryState.HELD, ledger: { kind: 'park', attempt: 1, at: at(NOW) } });
    expect(transition(DeliveryState.CLAIMED, 3, { kind: 'paused' }, NOW)).toEqual({
      to: DeliveryState.HELD,
      ledger: { kind: 'park', attempt: 3, at: at(NOW) },
      settlesEndpoint: true,
    });
  });

  it('keeps a delivery of an endpoint disabled by 410 Gone as failed, never sending it', () => {
    expect(transition(DeliveryState.FRESH, 1, { kind: 'disabled' }, NOW)).toEqual({ to: DeliveryState.FAILED, ledger: { kind: 'fail' } });
    expect(transition(DeliveryState.CLAIMED, 2, { kind: 'disabled' }, NOW)).toEqual({ to: DeliveryState.FAILED, ledger: { kind: 'fail' }, settlesEndpoint: true });
  });

  it('dead-letters a fresh delivery of a deleted endpoint, redelivers one whose endpoint is not known yet, and looks again later at a claimed one', () => {
    expect(transition(DeliveryState.FRESH, 1, { kind: 'unknown-endpoint', deleted: true }, NOW)).toEqual({
      to: DeliveryState.DONE,
      ledger: { kind: 'none' },
      deadLetter: 'UNKNOWN_ENDPOINT',
    });
    expect(transition(DeliveryState.FRESH, 1, { kind: 'unknown-endpoint', deleted: false }, NOW)).toEqual({ to: DeliveryState.FRESH, ledger: { kind: 'none' } });
    for (const deleted of [true, false]) {
      expect(transition(DeliveryState.CLAIMED, 2, { kind: 'unknown-endpoint', deleted }, NOW)).toEqual({
        to: DeliveryState.WAITING,
        ledger: { kind: 'park', attempt: 2, at: at(NOW + NOT_YET_DELAY_MS) },
      });
    }
  });

  it('ends a delivered delivery: nothing to remove for a fresh one, its ledger row for a claimed one', () => {
    const delivered: DeliveryEvent = { kind: 'attempted', verdict: { kind: 'delivered' } };
    expect(transition(DeliveryState.FRESH, 1, delivered, NOW)).toEqual({ to: DeliveryState.DONE, ledger: { kind: 'none' } });
    expect(transition(DeliveryState.CLAIMED, 5, delivered, NOW)).toEqual({ to: DeliveryState.DONE, ledger: { kind: 'remove' } });
  });

  it('parks a failed attempt for the next one the retry policy set, and keeps one with no attempt left as failed', () => {
    for (const from of [DeliveryState.FRESH, DeliveryState.CLAIMED] as const) {
      expect(transition(from, 2, { kind: 'attempted', verdict: { kind: 'retry', attempt: 3, at: NOW + 30_000 } }, NOW)).toEqual({
        to: DeliveryState.WAITING,
        ledger: { kind: 'park', attempt: 3, at: at(NOW + 30_000) },
      });
      for (const gone of [true, false]) {
        expect(transition(from, 10, { kind: 'attempted', verdict: { kind: 'failed', gone } }, NOW)).toEqual({ to: DeliveryState.FAILED, ledger: { kind: 'fail' } });
      }
    }
  });
});
