import { describe, expect, it } from '@jest/globals';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Headers, Topology } from '@app/messaging';
import { deadLetterRecordOf } from './dead-letters.consumer.js';

const topology = new Topology('es');
const encoder = new TextEncoder();
const EVENT_ID = '6F0C2B1E-3D5E-4C39-9F0E-6F1D7C1A2B3C';

function message(headers: Record<string, string>, body: string, subject = 'es.dead.filter-router') {
  const set = natsHeaders();
  for (const [name, value] of Object.entries(headers)) set.set(name, value);
  return { seq: 42, subject, data: encoder.encode(body), headers: set, timestamp: '2026-01-31T10:00:00.000Z' };
}

describe('deadLetterRecordOf', () => {
  it('keeps the original headers apart from its own, and takes the event id from the body, as its key', () => {
    const record = deadLetterRecordOf(
      message(
        { [Headers.reason]: 'MISSING_HEADERS', [Headers.detail]: 'no routing headers', [Headers.sourceSubject]: 'es.routable', [Headers.sourceSequence]: '9', [Headers.consumer]: 'filter-router', [Headers.eventId]: EVENT_ID, 'Es-Camera-Id': 'c' },
        JSON.stringify({ event: { id: EVENT_ID } }),
      ),
      (durable) => topology.appOfDurable(durable),
      topology.deadLetters(''),
    );
    expect(record).toEqual({
      seq: 42,
      app: 'filter-router',
      consumer: 'filter-router',
      reason: 'MISSING_HEADERS',
      detail: 'no routing headers',
      sourceSubject: 'es.routable',
      sourceSequence: 9,
      eventId: EVENT_ID.toLowerCase(),
      headers: { [Headers.eventId]: EVENT_ID, 'Es-Camera-Id': 'c' },
      body: encoder.encode(JSON.stringify({ event: { id: EVENT_ID } })),
      deadLetteredAt: new Date('2026-01-31T10:00:00.000Z'),
    });
  });

  it("keeps none of the server's headers, and no header that passes for a dead letter's own", () => {
    const record = deadLetterRecordOf(
      message({ [Headers.reason]: 'INVALID_EVENT', 'Nats-Msg-Id': 'm1', 'Nats-Expected-Stream': 'ES_EVENTS', 'es-reason': 'forged', 'ES-CONSUMER': 'x', 'Es-Agent-Id': 'a' }, '{}', 'es.dead.ingest'),
      (durable) => topology.appOfDurable(durable),
      topology.deadLetters(''),
    );
    expect([record.reason, record.headers]).toEqual(['INVALID_EVENT', { 'Es-Agent-Id': 'a' }]);
  });

  it('stores a record that lacks its headers, named by its subject, without NUL characters', () => {
    const record = deadLetterRecordOf(message({ 'X-Odd': 'a\u0000b' }, 'not json', 'es.dead.delivery-projector'), (durable) => topology.appOfDurable(durable), topology.deadLetters(''));
    expect(record).toMatchObject({ app: 'webhook-dispatcher', consumer: 'delivery-projector', reason: 'UNKNOWN', detail: '', sourceSubject: '', sourceSequence: null, eventId: null, headers: { 'X-Odd': 'ab' } });
  });
});

describe('Topology.isResubmittable', () => {
  it('admits the subjects the durables read but the delivery changes (a batch applied again would take deliveries back), and nothing else', () => {
    for (const subject of ['es.agents.a1.events', 'es.events.ingested', 'es.routable', 'es.deliveries.hook.e1']) expect({ subject, ok: topology.isResubmittable(subject) }).toEqual({ subject, ok: true });
    for (const subject of ['es.attempts', 'es.events.profiles.deleted', 'es.dead.ingest', 'es.deliveries.ws.e1.x', 'es.agents.*.events', 'es.agents.a.b.events', 'other.routable', 'es.deliveries.hook.>', '']) {
      expect({ subject, ok: topology.isResubmittable(subject) }).toEqual({ subject, ok: false });
    }
  });
});
