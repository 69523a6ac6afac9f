import { randomInt } from 'node:crypto';
import fc from 'fast-check';
import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLOutputType,
} from 'graphql';
import { EVENT_TYPES, IMAGE_CONTENT_TYPES } from '@app/events';
import { seedIdentification, type EventJson } from './fixtures.js';

/**
 * The edge fuzz suite's inputs (test/support/edge-fuzz-suite.ts): fast-check
 * arbitraries for every way into the service, byte-level (random bytes, a
 * valid document with bytes changed) and structure-aware (a valid shape with
 * fields changed), with the budget and the seed of a run.
 */

/** Inputs each edge is given: FUZZ_RUNS when set, else the spec's own budget. */
export function fuzzRuns(budget: number): number {
  const value = process.env.FUZZ_RUNS;
  if (value === undefined || value === '') return budget;
  const runs = Number(value);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FUZZ_RUNS must be a whole number of inputs per edge (got ${value})`);
  return runs;
}

function seedOf(value: string | undefined): number {
  if (value === undefined || value === '') return randomInt(2 ** 31 - 1);
  const seed = Number(value);
  if (!Number.isInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, as a failure reports it (got ${value})`);
  return seed;
}

/** The seed every edge of a run starts from: FUZZ_SEED replays a run, else a new one (the suite's name shows it). */
export const FUZZ_SEED = seedOf(process.env.FUZZ_SEED);

/**
 * fast-check's parameters for one edge: the run's seed and `runs` inputs
 * (its failure report repeats the seed, with the counterexample's path),
 * after `examples`, the failures found before, tried first on every run.
 */
export function fuzzParameters<T>(runs: number, examples: readonly T[] = []): fc.Parameters<[T]> {
  return { seed: FUZZ_SEED, numRuns: runs, examples: examples.map((example): [T] => [example]) };
}

const encoder = new TextEncoder();
const bytesOf = (text: string): Uint8Array => encoder.encode(text);

/** Any bytes. */
export const anyBytes = (maxLength = 2_048): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength });

/** One change of a document's bytes, at a position given as a fraction of its length. */
const byteChange = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
);
type ByteChange = typeof byteChange extends fc.Arbitrary<infer T> ? T : never;

function changeBytes(document: Uint8Array, change: ByteChange): Uint8Array {
  const at = Math.min(document.length, Math.floor(change.at * document.length));
  const [head, tail] = [document.subarray(0, at), document.subarray(at)];
  switch (change.kind) {
    case 'replace':
      return Buffer.concat([head, change.bytes, tail.subarray(change.bytes.length)]);
    case 'insert':
      return Buffer.concat([head, change.bytes, tail]);
    case 'delete':
      return Buffer.concat([head, tail.subarray(change.length)]);
    case 'repeat':
      return Buffer.concat([head, tail.subarray(0, change.length), tail]);
    case 'cut':
      return head;
  }
}

/** A document with one to four changes of its bytes: some replaced or inserted, a range deleted or repeated, the tail cut. */
export function mutatedBytes(documents: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(documents, fc.array(byteChange, { minLength: 1, maxLength: 4 })).map(([document, changes]) => changes.reduce(changeBytes, document));
}

/** A text with one to three characters changed (a cookie, a URL): replaced, inserted, removed, or the tail cut. */
export function mutatedText(texts: fc.Arbitrary<string>, characters: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const change = fc.record({ kind: fc.constantFrom('replace', 'insert', 'remove', 'cut'), at: fc.double({ min: 0, max: 1, noNaN: true }), character: characters });
  return fc.tuple(texts, fc.array(change, { minLength: 1, maxLength: 3 })).map(([text, changes]) =>
    changes.reduce((current, { kind, at, character }) => {
      const index = Math.floor(at * current.length);
      if (kind === 'replace') return current.slice(0, index) + character + current.slice(index + 1);
      if (kind === 'insert') return current.slice(0, index) + character + current.slice(index);
      if (kind === 'remove') return current.slice(0, index) + current.slice(index + 1);
      return current.slice(0, index);
    }, text),
  );
}

/** A UUID drawn without fast-check's bias towards small values: two runs never share one (event ids stay unique). */
export const freshId = (): fc.Arbitrary<string> => fc.noBias(fc.uuid());

/** `2024-05-29 10:48:27.364000+00:00` as agents write it, or ISO 8601 with `T` and `Z`. */
const detectionDate = fc
  .tuple(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }), fc.boolean())
  .map(([date, seedFormat]) => (seedFormat ? `${date.toISOString().replace('T', ' ').replace('Z', '')}000+00:00` : date.toISOString()));

const DETAILS: Record<string, [string, readonly string[]] | undefined> = {
  har: ['action', ['fall', 'sit', 'lie', 'fight']],
  roi: ['direction', ['in', 'out']],
  crossing: ['direction', ['forward', 'reverse']],
  face_hide_control: ['status', ['hidden_or_low_quality', 'identification', 'non_identification']],
};

/** Images an agent attaches in the event's `images` field; `maxImageBytes` + 1 bytes now and then. */
function attachedImages(maxImageBytes: number): fc.Arbitrary<Record<string, { content_type: string; data: string }>> {
  const image = fc.record({
    content_type: fc.constantFrom(...IMAGE_CONTENT_TYPES),
    data: fc.oneof({ weight: 9, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) }, { weight: 1, arbitrary: fc.constant(new Uint8Array(maxImageBytes + 1)) }).map((bytes) => Buffer.from(bytes).toString('base64')),
  });
  return fc.record({ image, original_image: image }, { requiredKeys: [] });
}

/**
 * A valid event of any type from the seed's envelope, every id drawn by
 * fast-check (a seed replays it): of `agentId` when given, with candidates,
 * the type's own details, links or none, attached images now and then.
 */
export function validEvent({ agentId = freshId(), maxImageBytes }: { agentId?: fc.Arbitrary<string>; maxImageBytes: number }): fc.Arbitrary<EventJson> {
  const candidate = fc.record({
    profileId: fc.uuid(),
    groups: fc.array(fc.uuid(), { maxLength: 3 }),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
  });
  return fc
    .record({
      type: fc.constantFrom(...EVENT_TYPES),
      eventId: freshId(),
      activityId: fc.uuid(),
      cameraId: freshId(),
      agentId,
      candidates: fc.option(fc.array(candidate, { maxLength: 3 })),
      date: detectionDate,
      links: fc.boolean(),
      detail: fc.nat(),
      images: fc.option(attachedImages(maxImageBytes), { freq: 4 }),
    })
    .map((drawn) => {
      const event = seedIdentification();
      const template = event.candidates[0];
      event.type = drawn.type;
      event.activity_id = drawn.activityId;
      event.camera.id = drawn.cameraId;
      event.camera.agent_id = drawn.agentId;
      event.event.id = drawn.eventId;
      event.event.detection_date = drawn.date;
      if (!drawn.links) {
        delete event.event.image_link;
        delete event.event.original_image_link;
      }
      const detail = DETAILS[drawn.type];
      if (detail) event.event[detail[0]] = detail[1][drawn.detail % detail[1].length];
      const candidates = (drawn.candidates ?? []).map(({ profileId, groups, confidence }) => ({
        ...template,
        profile: { ...template.profile, id: profileId },
        profile_groups: groups.map((id) => ({ id, color: 'orange.400' })),
        confidence,
      }));
      if (drawn.type === 'non_identification') delete event.candidates;
      else if (drawn.type === 'identification' || drawn.candidates !== null) event.candidates = candidates;
      else delete event.candidates;
      if (drawn.images) event.images = drawn.images;
      return event;
    });
}

/** Values that have broken parsers before: empty, white space, extremes, other types, look-alike ids and dates, odd Unicode. */
const trickyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    '',
    ' ',
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    true,
    [],
    {},
    '72AA3A70-0FC1-46F1-8A8E-EB50CD4F13A3',
    '{72aa3a70-0fc1-46f1-8a8e-eb50cd4f13a3}',
    ' 72aa3a70-0fc1-46f1-8a8e-eb50cd4f13a3',
    '2024-02-30 10:48:27.364000+00:00',
    '9999-99-99 99:99:99.999999+99:99',
    '2024-05-29T10:48:27.364000000000+00:00',
    '\u0000',
    '\ud800',
    '\u202e',
    '𝒳',
    'identification',
    'x'.repeat(10_000),
  ),
  fc.uuid(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double(),
  fc.integer(),
);

/** Every path (keys from the root) of an event's objects, arrays and values. */
function pathsOf(value: unknown, at: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null) return [at];
  return [at, ...Object.entries(value).flatMap(([key, child]) => pathsOf(child, [...at, key]))];
}

const fieldChange = fc.record({
  kind: fc.constantFrom('remove', 'json', 'tricky', 'add'),
  at: fc.nat(),
  json: fc.jsonValue({ maxDepth: 3 }),
  tricky: trickyValue,
  key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('type', 'id', 'candidates', 'images', '__proto__', 'constructor')),
});
type FieldChange = typeof fieldChange extends fc.Arbitrary<infer T> ? T : never;

function changeField(event: EventJson, change: FieldChange): void {
  const paths = pathsOf(event);
  const path = paths[change.at % paths.length]!;
  const parentPath = path.slice(0, -1);
  const parent = parentPath.reduce<any>((node, key) => node[key], event);
  const target = path.reduce<any>((node, key) => node[key], event);
  if (change.kind === 'add') {
    const holder = typeof target === 'object' && target !== null && !Array.isArray(target) ? target : event;
    Object.defineProperty(holder, change.key, { value: change.json, enumerable: true, configurable: true, writable: true });
    return;
  }
  const key = path.at(-1);
  if (key === undefined) return;
  if (change.kind === 'remove') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
    return;
  }
  parent[key] = change.kind === 'json' ? change.json : change.tricky;
}

/** A valid event with one to three fields changed: removed, given another JSON value or a tricky one, or an unknown field added. */
export function fuzzedEvent(valid: fc.Arbitrary<EventJson>): fc.Arbitrary<EventJson> {
  return fc.tuple(valid, fc.array(fieldChange, { minLength: 1, maxLength: 3 })).map(([event, changes]) => {
    const copy = structuredClone(event);
    for (const change of changes) changeField(copy, change);
    return copy;
  });
}

/** How an event's JSON is written: as JSON.stringify does, or in the ways agents and attackers write it. */
const writing = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('plain' as const) }) },
  fc.record({ kind: fc.constant('indented' as const), indent: fc.constantFrom(2, '\t', '\r\n ') }),
  fc.record({ kind: fc.constant('bom' as const) }),
  fc.record({ kind: fc.constant('escaped-key' as const) }),
  fc.record({ kind: fc.constant('key-twice' as const), at: fc.nat(), value: fc.jsonValue({ maxDepth: 1 }) }),
  fc.record({ kind: fc.constant('deep' as const), depth: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1_000, max: 30_000 })) }),
  fc.record({ kind: fc.constant('padded' as const), bytes: fc.nat() }),
  fc.record({ kind: fc.constant('trailing' as const), text: fc.constantFrom(' ', '\n', ' x', ',', '}', '\u0000') }),
);
type Writing = typeof writing extends fc.Arbitrary<infer T> ? T : never;

function write(event: EventJson, how: Writing, paddings: readonly number[]): string {
  const text = JSON.stringify(event);
  switch (how.kind) {
    case 'plain':
      return text;
    case 'indented':
      return JSON.stringify(event, null, how.indent as string | number);
    case 'bom':
      return `\ufeff${text}`;
    case 'escaped-key':
      return text.replace('"type"', '"\\u0074ype"');
    case 'key-twice': {
      // The same key again, in the top-level object or in one of its objects.
      const objects = Object.entries(event).filter(([, value]) => typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0);
      const [outer, inner] = objects.length > 0 ? objects[how.at % objects.length]! : [null, event];
      const key = Object.keys(inner as object)[how.at % Object.keys(inner as object).length] ?? 'type';
      const repeated = `${JSON.stringify(key)}:${JSON.stringify(how.value) ?? 'null'}`;
      return outer === null ? text.replace('{', `{${repeated},`) : text.replace(`${JSON.stringify(outer)}:{`, `${JSON.stringify(outer)}:{${repeated},`);
    }
    case 'deep':
      return text.replace('{', `{"deep":${'['.repeat(how.depth)}${']'.repeat(how.depth)},`);
    case 'padded': {
      // About one of the limits, either side of it.
      const size = Math.max(0, paddings[how.bytes % paddings.length]! - text.length + (how.bytes % 64) - 32);
      return text.replace('{', `{"padding":"${'x'.repeat(size)}",`);
    }
    case 'trailing':
      return text + how.text;
  }
}

/** An event's JSON text, written in one of the ways `writing` draws; `paddings`: the sizes (limits) padded events are made about. */
export function eventText(events: fc.Arbitrary<EventJson>, paddings: readonly number[]): fc.Arbitrary<string> {
  return fc.tuple(events, writing).map(([event, how]) => write(event, how, paddings));
}

export interface EventBodyOptions {
  /** The agent the events are of (the NATS subject's); any when not given. */
  agentId?: fc.Arbitrary<string>;
  maxImageBytes: number;
  /** Sizes padded events are made about (the event and body limits). */
  paddings: readonly number[];
}

/** An event body: random bytes, a valid event with bytes changed, a valid event or one with fields changed, written in various ways. */
export function eventBody(options: EventBodyOptions): fc.Arbitrary<Uint8Array> {
  const valid = validEvent(options);
  return fc.oneof(
    { weight: 1, arbitrary: anyBytes() },
    { weight: 3, arbitrary: mutatedBytes(valid.map((event) => bytesOf(JSON.stringify(event)))) },
    { weight: 4, arbitrary: eventText(fuzzedEvent(valid), options.paddings).map(bytesOf) },
    { weight: 3, arbitrary: eventText(valid, options.paddings).map(bytesOf) },
  );
}

/** An HTTP token (a header or part name), as RFC 9110 allows. */
const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,24}$/);

/** A character a header value may carry as Node sends it (tab, visible ASCII, Latin-1). */
export const headerCharacter = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((code) => String.fromCharCode(code)) },
  { weight: 1, arbitrary: fc.constant('\t') },
);
export const headerValue = (maxLength = 64): fc.Arbitrary<string> => fc.string({ unit: headerCharacter, maxLength });

export interface Multipart {
  contentType: string;
  body: Uint8Array;
}

/**
 * A `multipart/form-data` request as ingest takes it (an `event` field and
 * `image` / `original_image` files) with its parts fuzzed: names, file
 * names, types, sizes about the image limit, parts missing, unknown or
 * repeated; boundaries and the Content-Type header fuzzed; now and then its
 * bytes changed.
 */
export function multipartRequest(events: fc.Arbitrary<string>, maxImageBytes: number): fc.Arbitrary<Multipart> {
  const file = fc.record({
    name: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('image', 'original_image') }, fc.constantFrom('event', ''), token),
    filename: fc.option(fc.oneof(fc.constantFrom('face.jpg', 'a"b.png', '../../etc/passwd', ''), fc.string({ unit: 'grapheme', maxLength: 12 }))),
    type: fc.option(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...IMAGE_CONTENT_TYPES) }, fc.constantFrom('image/gif', 'application/octet-stream', 'IMAGE/JPEG', 'image/jpeg; q=1'), token)),
    bytes: fc.oneof({ weight: 8, arbitrary: fc.uint8Array({ maxLength: 256 }) }, fc.constantFrom(maxImageBytes, maxImageBytes + 1).map((size) => new Uint8Array(size))),
  });
  const field = fc.record({ name: fc.oneof({ weight: 4, arbitrary: fc.constant('event') }, token, fc.constant('')), value: events });
  const part = fc.oneof(
    field.map(({ name, value }) => ({ headers: `Content-Disposition: form-data; name="${name}"`, body: bytesOf(value) })),
    file.map(({ name, filename, type, bytes }) => ({
      headers: [`Content-Disposition: form-data; name="${name}"${filename === null ? '' : `; filename="${filename}"`}`, ...(type === null ? [] : [`Content-Type: ${type}`])].join('\r\n'),
      body: bytes,
    })),
  );
  const boundary = fc.oneof({ weight: 4, arbitrary: fc.constant('fuzz-boundary-7f3a') }, fc.stringMatching(/^[0-9A-Za-z'()+_,.\/:=?-]{1,70}$/));
  const header = fc.constantFrom('plain', 'quoted', 'none', 'empty', 'other', 'charset');
  const multipart = fc.record({ event: events, parts: fc.array(part, { maxLength: 3 }), eventFirst: fc.boolean(), boundary, header, epilogue: fc.boolean() }).map(({ event, parts, eventFirst, boundary, header, epilogue }) => {
    const all = eventFirst ? [{ headers: 'Content-Disposition: form-data; name="event"', body: bytesOf(event) }, ...parts] : parts;
    const body = Buffer.concat([
      ...all.flatMap((entry) => [bytesOf(`--${boundary}\r\n${entry.headers}\r\n\r\n`), entry.body, bytesOf('\r\n')]),
      bytesOf(`--${boundary}--\r\n${epilogue ? 'epilogue' : ''}`),
    ]);
    const contentType = {
      plain: `multipart/form-data; boundary=${boundary}`,
      quoted: `multipart/form-data; boundary="${boundary}"`,
      none: 'multipart/form-data',
      empty: 'multipart/form-data; boundary=',
      other: 'multipart/form-data; boundary=another-boundary',
      charset: `multipart/form-data;charset=utf-8;boundary=${boundary}`,
    }[header];
    return { contentType, body };
  });
  const changed = multipart.chain(({ contentType, body }) => mutatedBytes(fc.constant(body)).map((bytes) => ({ contentType, body: bytes })));
  return fc.oneof({ weight: 4, arbitrary: multipart }, changed);
}

export interface AgentMessage {
  /** The agent token of the subject (`<p>.agents.<agent>.events`). */
  agent: string;
  body: Uint8Array;
  headers: Array<[string, string]>;
}

/** A message on an agent's NATS subject: the agent's events fuzzed as HTTP bodies are, the subject's agent and headers fuzzed too. */
export function agentMessage(agentId: string, options: Omit<EventBodyOptions, 'agentId'>): fc.Arbitrary<AgentMessage> {
  const agent = fc.oneof({ weight: 8, arbitrary: fc.constant(agentId) }, fc.constant(agentId.toUpperCase()), fc.uuid(), fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/));
  const header = fc.tuple(fc.oneof(token.filter((name) => !/^nats-/i.test(name)), fc.constant('Nats-Msg-Id')), fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,40}$/));
  return fc.record({ agent, body: eventBody({ ...options, agentId: fc.constant(agentId) }), headers: fc.array(header, { maxLength: 3 }) });
}

/** A GraphQL call of one root field with its variables, and the names a `field` of its errors may start with. */
export interface GraphqlCall {
  field: string;
  query: string;
  variables: Record<string, unknown>;
  /** The arguments' names and the fields of the input objects whose argument is named `…Input` (docs/api.md: Errors). */
  fieldRoots: ReadonlySet<string>;
}

/**
 * A URL of a host that needs no DNS answer from the network (a reserved
 * name or an address literal, public or internal): webhook URLs are resolved
 * when saved, and random names would make a run wait on the resolver.
 */
const url = fc
  .record({
    scheme: fc.constantFrom('https', 'http', 'HTTPS', 'ftp', 'javascript'),
    credentials: fc.constantFrom('', '', '', 'user:pw@'),
    host: fc.constantFrom('receiver.test', 'hooks.example.invalid', 'App.Example', '203.0.113.7', '[2001:db8::7]', '127.0.0.1', 'localhost', '10.0.0.1', '169.254.169.254', '0x7f.1'),
    port: fc.option(fc.integer({ min: 0, max: 70_000 }), { freq: 4 }),
    path: fc.webPath(),
    query: fc.option(fc.webQueryParameters()),
    fragment: fc.option(fc.webFragments()),
  })
  .map(({ scheme, credentials, host, port, path, query, fragment }) => `${scheme}://${credentials}${host}${port === null ? '' : `:${port}`}${path}${query === null ? '' : `?${query}`}${fragment === null ? '' : `#${fragment}`}`);

/** What a scalar of the schema is given: valid-looking values beside wrong ones. */
function scalarValue(name: string, ids: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  const text = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.constantFrom('', ' ', '  crm  ', 'x'.repeat(200), 'x'.repeat(201), 'a\r\nb', 'X-Custom', 'Content-Type', 'X Bad', 'v'.repeat(4_097)),
    fc.constantFrom('https://receiver.test/hook', ' https://receiver.test/hook ', 'https://app.example', 'https://app.example/path'),
    url,
    url.map((text) => text.replace(/^([^:]+:\/\/[^/?#]*).*$/, '$1')),
    ids,
  );
  const int = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(0, -1, 1, 1_000, 1_001, 100_000, 100_001, 604_800, 604_801, 2 ** 31 - 1, -(2 ** 31)) },
    { weight: 10, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) },
    { weight: 1, arbitrary: fc.constantFrom(2 ** 31, 1.5, '3') },
  );
  const dateTime = fc.oneof(
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
    fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
    fc.constantFrom('yesterday', '', '2024-02-30T00:00:00Z', '2024-05-29 10:48:27.364000+00:00', '0', 0, 1e15, -1, '-271821-04-20T00:00:00.000Z', '+275760-09-13T00:00:00.000Z'),
  );
  switch (name) {
    case 'ID':
      return fc.oneof({ weight: 4, arbitrary: ids }, fc.uuid(), fc.uuid().map((id) => id.toUpperCase()), fc.constantFrom('', '42', 'not-an-id', ' '), fc.integer());
    case 'String':
      return text;
    case 'Int':
      return int;
    case 'Float':
      return fc.oneof(fc.double(), int);
    case 'Boolean':
      return fc.oneof({ weight: 14, arbitrary: fc.boolean() }, fc.constantFrom('true', 0, null));
    case 'DateTime':
      return dateTime;
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/**
 * A value of an input type of the schema, built from the type alone (a new
 * input type, field or enum is fuzzed without changing this): mostly of its
 * type, now and then null, the wrong type, an unknown field, a list given as
 * one value, or a list longer than any limit.
 */
function inputValue(type: GraphQLInputType, ids: fc.Arbitrary<string>, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return fc.oneof({ weight: 29, arbitrary: inputValue(type.ofType, ids, depth) }, fc.constant(null));
  if (depth > 4) return fc.constant(null);
  const value = (): fc.Arbitrary<unknown> => {
    if (isListType(type)) {
      const item = inputValue(type.ofType, ids, depth + 1);
      return fc.oneof(
        { weight: 16, arbitrary: fc.array(item, { maxLength: 4 }) },
        { weight: 1, arbitrary: item },
        { weight: 1, arbitrary: fc.tuple(item, fc.integer({ min: 51, max: 10_050 })).map(([one, length]) => Array.from({ length }, () => one)) },
      );
    }
    if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields());
      const record = fc.record(Object.fromEntries(fields.map((field) => [field.name, inputValue(field.type, ids, depth + 1)])), { requiredKeys: fields.filter((field) => isNonNullType(field.type)).map((field) => field.name) });
      return fc.oneof(
        { weight: 28, arbitrary: record },
        { weight: 1, arbitrary: fc.tuple(record, token, fc.jsonValue({ maxDepth: 1 })).map(([object, key, extra]) => ({ ...object, [key]: extra })) },
        { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant([])) },
      );
    }
    if (isEnumType(type)) {
      const names = type.getValues().map((entry) => entry.name);
      return fc.oneof({ weight: 28, arbitrary: fc.constantFrom(...names) }, fc.constantFrom(...names).map((name) => name.toLowerCase()), fc.string({ maxLength: 10 }));
    }
    return scalarValue(type.name, ids);
  };
  return fc.oneof({ weight: 9, arbitrary: value() }, fc.constant(null));
}

/**
 * What a call selects of its answer: every leaf of the type, and the leaves
 * of the objects below it two levels deep (lists of objects below the top
 * are left out: the query cost stays under the API's limit).
 */
function selectionOf(type: GraphQLOutputType, depth = 0): string {
  const named = getNamedType(type);
  if (isLeafType(named) || !isObjectType(named)) return '';
  const fields = Object.values(named.getFields()).filter((field) => field.args.every((arg) => !isNonNullType(arg.type)));
  const parts = fields.flatMap((field) => {
    const inner = getNamedType(field.type);
    if (isLeafType(inner)) return [field.name];
    const listed = isListType(isNonNullType(field.type) ? field.type.ofType : field.type);
    if (depth >= 2 || (listed && depth >= 1)) return [];
    return [`${field.name} ${selectionOf(field.type, depth + 1)}`];
  });
  return `{ ${parts.length > 0 ? parts.join(' ') : '__typename'} }`;
}

function rootsOf(args: readonly GraphQLArgument[]): Set<string> {
  const roots = new Set(args.map((arg) => arg.name));
  for (const arg of args) {
    const named = getNamedType(arg.type);
    if (arg.name.endsWith('Input') && isInputObjectType(named)) for (const field of Object.keys(named.getFields())) roots.add(field);
  }
  return roots;
}

/** The calls of one root field: drawn (`calls`), or with given variables (`call`, a failure found before, kept as an example). */
export interface FieldCalls {
  field: string;
  calls: fc.Arbitrary<GraphqlCall>;
  call: (variables: Record<string, unknown>) => GraphqlCall;
}

function callsOf(operation: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, ids: fc.Arbitrary<string>): FieldCalls {
  const declared = field.args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const query = `${operation} Fuzz${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''} ${selectionOf(field.type)} }`;
  const fieldRoots = rootsOf(field.args);
  const call = (variables: Record<string, unknown>): GraphqlCall => ({ field: field.name, query, variables, fieldRoots });
  const variables = fc.record(Object.fromEntries(field.args.map((arg) => [arg.name, inputValue(arg.type, ids)])), {
    requiredKeys: field.args.filter((arg) => isNonNullType(arg.type)).map((arg) => arg.name),
  });
  return { field: field.name, calls: variables.map((values) => call(values as Record<string, unknown>)), call };
}

/**
 * For every query and mutation of the schema (its SDL, as
 * apps/api/schema.graphql holds it), calls of it with variables drawn for
 * its argument types. `knownIds` are ids of records that exist (read when a
 * value is drawn: the ids of what earlier calls made count too).
 */
export function graphqlCalls(sdl: string, knownIds: () => readonly string[]): FieldCalls[] {
  const schema = buildSchema(sdl);
  const ids = fc.tuple(fc.nat(), fc.boolean()).map(([index, upper]) => {
    const known = knownIds();
    const id = known.length > 0 ? known[index % known.length]! : '00000000-0000-4000-8000-000000000000';
    return upper ? id.toUpperCase() : id;
  });
  return [
    ...Object.values(schema.getQueryType()?.getFields() ?? {}).map((field) => callsOf('query', field, ids)),
    ...Object.values(schema.getMutationType()?.getFields() ?? {}).map((field) => callsOf('mutation', field, ids)),
  ];
}

/** The upgrade request of a websocket client: its request target (path and query) and its headers. */
export interface UpgradeRequest {
  target: string;
  headers: Array<[string, string]>;
}

/**
 * A websocket upgrade to the gateway: the path and the query fuzzed
 * structure-aware (the real path and parameters with values valid, wrong,
 * odd or percent-garbled) or byte-level (any request target), and the
 * headers a browser or a proxy sends (Origin, subprotocols, key, version).
 */
export function upgradeRequest({ ids, tokens, eventIds }: { ids: readonly string[]; tokens: readonly string[]; eventIds: () => readonly string[] }): fc.Arbitrary<UpgradeRequest> {
  const segment = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-._~!$&\'()*+,;=:@[]%'.split('')), maxLength: 10 });
  const path = fc.oneof(
    { weight: 8, arbitrary: fc.constant('/event-service/ws') },
    { weight: 1, arbitrary: fc.constantFrom('/event-service/ws/', '/event-service/WS', '/event-service//ws', '/event-service/ws%2F', '*', 'http://gateway/event-service/ws', '/') },
    { weight: 3, arbitrary: fc.array(segment, { maxLength: 4 }).map((segments) => `/${segments.join('/')}`) },
  );
  const known = fc.tuple(fc.constantFrom(...ids), fc.boolean()).map(([id, upper]) => (upper ? id.toUpperCase() : id));
  const eventId = fc.nat().map((index) => eventIds()[index % Math.max(1, eventIds().length)] ?? '00000000-0000-4000-8000-000000000000');
  const since = fc.oneof(
    fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }).map((date) => date.toISOString()),
    fc.date({ noInvalidDate: true }).map((date) => date.toISOString().replace('Z', '+00:00')),
    fc.constantFrom('2026-05-29T10:48:27Z', '2026-05-29 10:48:27 00:00', '2026-13-45T99:99:99Z', 'yesterday', '0000-01-01T00:00:00Z'),
  );
  const value = fc.oneof(
    { weight: 4, arbitrary: known },
    fc.uuid(),
    eventId,
    since,
    fc.constantFrom(...tokens),
    fc.constantFrom('', '%', '%zz', '%E0%A4', '%00', '%FF', 'a%20b', '%2526'),
    fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
    fc.string({ maxLength: 20 }),
  );
  const name = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('endpoint_id', 'last_event_id', 'since', 'token') }, fc.string({ maxLength: 8 }).map(encodeURIComponent));
  const query = fc.array(fc.tuple(name, value), { maxLength: 4 }).map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([key, item]) => `${key}=${item.replace(/[\s#]/g, encodeURIComponent)}`).join('&')}`));
  const shaped = fc.tuple(path, fc.tuple(known, query)).map(([at, [id, rest]]) => `${at}?endpoint_id=${id}${rest.replace('?', '&')}`);
  const target = fc.oneof(
    { weight: 6, arbitrary: shaped },
    { weight: 2, arbitrary: fc.tuple(path, query).map(([at, rest]) => at + rest) },
    { weight: 1, arbitrary: mutatedText(shaped, fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 })).map((text) => text.replace(/[\r\n]/g, '')) },
    { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 60 }) },
  );
  const protocols = fc.array(fc.oneof(fc.constantFrom('event-service', 'bearer.'), fc.constantFrom(...tokens).map((secret) => `bearer.${secret}`), token), { maxLength: 3 }).map((list) => list.join(', '));
  const headers = fc
    .record(
      {
        origin: fc.oneof(fc.constantFrom('https://app.example', 'https://evil.example', 'null', 'HTTPS://APP.EXAMPLE'), headerValue(30)),
        protocols,
        version: fc.oneof({ weight: 9, arbitrary: fc.constant('13') }, fc.constantFrom('8', '', '13, 8'), headerValue(4)),
        key: fc.oneof({ weight: 9, arbitrary: fc.constant('dGhlIHNhbXBsZSBub25jZQ==') }, headerValue(24)),
        forwarded: headerValue(30),
      },
      { requiredKeys: ['version', 'key'] },
    )
    .map(({ origin, protocols: offered, version, key, forwarded }) => {
      const list: Array<[string, string]> = [
        ['Sec-WebSocket-Version', version],
        ['Sec-WebSocket-Key', key],
      ];
      if (origin !== undefined) list.push(['Origin', origin]);
      if (offered !== undefined && offered !== '') list.push(['Sec-WebSocket-Protocol', offered]);
      if (forwarded !== undefined) list.push(['X-Forwarded-For', forwarded]);
      return list;
    });
  return fc.record({ target, headers });
}

/**
 * A Cookie header for the dashboard's session: `valid` (`es_session=<sealed>`)
 * changed a character at a time, beside other cookies, repeated, quoted or
 * percent-encoded, or any header text.
 */
export function sessionCookie(valid: string): fc.Arbitrary<string> {
  const [name, value] = [valid.slice(0, valid.indexOf('=')), valid.slice(valid.indexOf('=') + 1)];
  const changed = mutatedText(fc.constant(value), headerCharacter).map((text) => `${name}=${text}`);
  return fc.oneof(
    { weight: 4, arbitrary: changed },
    fc.constantFrom(valid, `other=1; ${valid}`, `${valid}; ${name}=x`, `${name}=x; ${valid}`, `${name}="${value}"`, `${name}=${encodeURIComponent(value)}`, `${name}=`, name, `${name}=%`, `${name}=%E0%A4%A`, ';;;'),
    fc.tuple(headerValue(20), fc.boolean()).map(([text, first]) => (first ? `${text}; ${valid}` : `${valid}${text}`)),
    headerValue(200),
  );
}

/** A sign-in request of the dashboard: its body, content type and the browser's Sec-Fetch-Site, each fuzzed. */
export function signIn(tokens: readonly string[]): fc.Arbitrary<{ body: Uint8Array; contentType: string | null; site: string | null }> {
  const body = fc.oneof(
    fc.constantFrom(...tokens).map((secret) => JSON.stringify({ token: secret })),
    fc.constantFrom(...tokens).map((secret) => JSON.stringify({ token: ` ${secret}\n` })),
    fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify({ token: value })),
    fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value) ?? 'null'),
  );
  return fc.record({
    body: fc.oneof({ weight: 3, arbitrary: body.map(bytesOf) }, mutatedBytes(body.map(bytesOf)), anyBytes(200)),
    contentType: fc.option(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') }, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'), headerValue(30))),
    site: fc.option(fc.constantFrom('same-origin', 'none', 'cross-site', 'same-site', '')),
  });
}

/**
 * A request for an image: the path's id (the real one in any case, another
 * UUID, percent-garbage, dot segments, a long one) and the signed link's
 * query (the real signature, changed, repeated, missing), raw as a client
 * may send them.
 */
export function imagePath({ id, query }: { id: string; query: string }): fc.Arbitrary<string> {
  const pathCharacter = fc.integer({ min: 0x21, max: 0x7e }).filter((code) => code !== 0x3f && code !== 0x23).map((code) => String.fromCharCode(code));
  const idPart = fc.oneof(
    { weight: 3, arbitrary: fc.mixedCase(fc.constant(id)) },
    fc.uuid(),
    fc.constantFrom('', '.', '..', '%2e%2e', '%2F', `${id}/`, `${id}%00`, `${id}.jpg`, '%', '%zz', '%E0%A4%A', '%C0%AF', 'x'.repeat(4_000)),
    fc.string({ unit: pathCharacter, maxLength: 40 }),
    fc.uint8Array({ maxLength: 12 }).map((bytes) => [...bytes].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('')),
  );
  const params = new URLSearchParams(query);
  const [expires, signature] = [params.get('expires') ?? '', params.get('signature') ?? ''];
  const queryPart = fc.oneof(
    { weight: 3, arbitrary: fc.constant(`?${query}`) },
    fc.constant(''),
    mutatedText(fc.constant(`?${query}`), pathCharacter),
    fc.constantFrom(`?expires=${expires}&expires=${expires}&signature=${signature}`, `?expires[]=${expires}&signature=${signature}`, `?signature=${signature}`, `?expires=99999999999999&signature=${signature}`, `?expires=${expires}&signature=${signature}=`),
    fc.tuple(fc.string({ unit: pathCharacter, maxLength: 14 }), fc.string({ unit: pathCharacter, maxLength: 30 })).map(([a, b]) => `?expires=${a}&signature=${b}`),
  );
  return fc.tuple(idPart, queryPart).map(([at, rest]) => `/event-service/get-image/${at}${rest}`);
}
