import { describe, expect, it } from '@jest/globals';
import { decodeEvent, eventIdKeyOf } from './event-codec.js';
import { fillImageLinks } from './image-links.js';
import type { AgentEvent } from './event.schema.js';

const encoder = new TextEncoder();
const base = {
  type: 'identification',
  activity_id: '69410e11-d3f6-449c-927f-cea210f0e326',
  camera: { id: '72aa3a70-0fc1-46f1-8a8e-eb50cd4f13a3', type: 'IP', title: null, stream: null, real_name: null, agent_id: 'a593c1be-d13e-4244-8179-1df0a6b725f7' },
  candidates: [],
  event: { id: 'b4c32a55-685e-4055-9716-aeda8c892c84', detection_date: '2024-05-29 10:48:27.364000+00:00', image: 'img-1', original_image: null },
};
const candidate = (profile: Record<string, unknown>) => ({
  profile: { id: 'd96fb010-8da5-49a6-b571-b48cb241a923', ...profile },
  profile_groups: [{ id: '82e7d0c3-6e69-425b-ab79-faa19c2d9fe7', color: 'orange.400' }],
  confidence: 0.9,
});
const decode = (value: unknown) => decodeEvent(encoder.encode(JSON.stringify(value)), 65_536);

describe('decodeEvent', () => {
  it.each(['identification', 'non_identification', 'har', 'roi', 'crossing', 'face_hide_control'])('accepts a %s envelope', (type) => {
    const event: Record<string, unknown> = { ...base, type };
    if (type === 'non_identification') delete event.candidates;
    expect(decode(event).ok).toBe(true);
  });

  it('keeps fields the schema does not know, unchanged, in the agent key order', () => {
    const event = { extra: { nested: [1, 2] }, ...base, event: { ...base.event, vendor_field: 'kept' } };
    const result = decode(event);
    expect(result.ok && JSON.stringify(result.event)).toBe(JSON.stringify(event));
  });

  it.each([
    ['roi', { direction: 'sideways' }, 'event.direction'],
    ['crossing', { direction: 'in' }, 'event.direction'],
    ['har', { action: 'dance' }, 'event.action'],
    ['face_hide_control', { status: 'masked' }, 'event.status'],
  ])('checks the %s details when present', (type, details, field) => {
    const result = decode({ ...base, type, event: { ...base.event, ...details } });
    expect(result.ok ? null : result.rejection.field).toBe(field);
  });

  it('names a required field that is missing', () => {
    const { activity_id: _omitted, ...event } = base;
    const result = decode(event);
    expect(result.ok ? null : result.rejection).toEqual({ code: 'INVALID_EVENT', field: 'activity_id', message: 'activity_id: is required' });
  });

  it.each([
    ['a string field given a number', { ...base, camera: { ...base.camera, real_name: 5 } }, 'camera.real_name', 'must be a string or null (got number)'],
    ['a number field given a string', { ...base, candidates: [candidate({ age: '30' })] }, 'candidates.0.profile.age', 'must be a number or null (got string)'],
    ['a required field given null', { ...base, camera: { ...base.camera, type: null } }, 'camera.type', 'must be a string (got null)'],
    ['an object given a string', { ...base, camera: 'front door' }, 'camera', 'must be an object (got string)'],
    ['candidates on a non_identification', { ...base, type: 'non_identification' }, 'candidates', 'must be absent in a non_identification event'],
    ['a confidence out of range', { ...base, candidates: [{ ...candidate({}), confidence: 2 }] }, 'candidates.0.confidence', 'must be at most 1'],
  ])('reports %s as what it is, not as missing', (_case, event, field, message) => {
    const result = decode(event);
    expect(result.ok ? null : result.rejection).toEqual({ code: 'INVALID_EVENT', field, message: `${field}: ${message}` });
  });

  it('names a missing type as missing and an unknown one as unknown', () => {
    const { type: _omitted, ...untyped } = base;
    expect(decode(untyped)).toMatchObject({ ok: false, rejection: { field: 'type', message: 'type: is required' } });
    expect(decode({ ...base, type: 'smile' })).toMatchObject({ ok: false, rejection: { field: 'type', message: expect.stringMatching(/^type: must be one of identification/) } });
  });

  it('refuses bytes that are not UTF-8', () => {
    const result = decodeEvent(new Uint8Array([0x7b, 0xff, 0x7d]), 100);
    expect(result.ok ? null : result.rejection.code).toBe('MALFORMED_JSON');
  });

  it('refuses a byte order mark: the bytes stored and delivered are the ones sent, and JSON parsers refuse them with it', () => {
    const result = decodeEvent(encoder.encode(`\ufeff${JSON.stringify(base)}`), 65_536);
    expect(result.ok ? null : result.rejection.code).toBe('MALFORMED_JSON');
  });

  it('names the path of a value nested too deep, before the schema is checked', () => {
    const result = decodeEvent(encoder.encode(JSON.stringify(base).replace('{', `{"extra":${'['.repeat(1_000)}${']'.repeat(1_000)},`)), 65_536);
    expect(result.ok ? null : result.rejection).toMatchObject({ code: 'INVALID_EVENT', field: expect.stringMatching(/^extra\.0\.0\./), message: expect.stringContaining('nests objects and arrays more than 32 deep') });
  });

  it('refuses an event over the size limit before parsing it', () => {
    const result = decodeEvent(encoder.encode(JSON.stringify(base)), 10);
    expect(result.ok ? null : result.rejection.code).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('eventIdKeyOf', () => {
  const of = (value: unknown) => eventIdKeyOf(encoder.encode(typeof value === 'string' ? value : JSON.stringify(value)));

  it("reads event.id as its key, from an event the schema refuses too", () => {
    expect(of(base)).toBe('b4c32a55-685e-4055-9716-aeda8c892c84');
    expect(of({ ...base, type: 'smile', event: { ...base.event, id: 'B4C32A55-685E-4055-9716-AEDA8C892C84' } })).toBe('b4c32a55-685e-4055-9716-aeda8c892c84');
  });

  it.each([
    ['an id that is not a UUID', { ...base, event: { ...base.event, id: 'b4c32a55 level=error forged' } }],
    ['a line break in the id', { ...base, event: { ...base.event, id: 'b4c32a55-685e-4055-9716-aeda8c892c84\n{"level":"error"}' } }],
    ['a number', { ...base, event: { ...base.event, id: 42 } }],
    ['no event object', { ...base, event: null }],
    ['a JSON array', [base]],
    ['JSON null', 'null'],
    ['not JSON', '{"event": {"id": '],
  ])('takes nothing from %s', (_case, value) => {
    expect(of(value)).toBeUndefined();
  });
});

describe('fillImageLinks', () => {
  it('fills missing and null links from the image ids and keeps links the agent sent', () => {
    const event = structuredClone({ ...base, event: { ...base.event, original_image: 'img-2', original_image_link: 'https://cdn.test/2' } }) as unknown as AgentEvent;
    expect(fillImageLinks(event, 'https://events.test')).toBe(true);
    expect(event.event.image_link).toBe('https://events.test/event-service/get-image/img-1');
    expect(event.event.original_image_link).toBe('https://cdn.test/2');
  });

  it('leaves an event without image ids untouched', () => {
    const event = structuredClone({ ...base, event: { ...base.event, image: null } }) as unknown as AgentEvent;
    expect(fillImageLinks(event, 'https://events.test')).toBe(false);
    expect('image_link' in event.event).toBe(false);
  });
});
