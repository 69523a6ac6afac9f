import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import fc from 'fast-check';
import { idKey, validateEvent } from '@app/events';
import { DeadLetterReason, DURABLES, Headers } from '@app/messaging';
import { projectRoot } from '../../scripts/local-stack.js';
import { freshEvent } from './fixtures.js';
import {
  agentMessage,
  anyBytes,
  eventBody,
  eventText,
  FUZZ_SEED,
  fuzzedEvent,
  fuzzParameters,
  graphqlCalls,
  imagePath,
  multipartRequest,
  mutatedBytes,
  mutatedText,
  sessionCookie,
  signIn,
  upgradeRequest,
  validEvent,
} from './fuzz.js';
import { clientFrame, CLOSED_WHILE_SENDING, RawConnection, send, upgrade, type Answer } from './raw-http.js';
import { TestStack } from './stack.js';
import { TcpProxy } from './tcp-proxy.js';
import { waitFor } from './wait.js';
import { TestClient } from './ws-client.js';

/** Ingest's limits in the fuzzed stack: small, so that inputs either side of them are cheap. */
const LIMITS = { event: 16_384, body: 65_536, image: 16_384 };
/** The api's body limits (apps/api/src/graphql/body-limits.ts), the gateway's largest inbound frame, Node's header limit. */
const API_BODY = { anonymous: 1_024, token: 100 * 1_024 };
const WS_FRAME = 4_096;
const HEADER_BYTES = 16_384;

const INGEST_CODES = ['MALFORMED_JSON', 'INVALID_EVENT', 'PAYLOAD_TOO_LARGE', 'FORBIDDEN', 'DUPLICATE_KEY', 'CAMERA_OF_ANOTHER_AGENT', 'TOO_MANY_CAMERAS', 'UNAUTHENTICATED'];
/** Ingest's codes that are about one field of the event: its answer names it. */
const INGEST_FIELD_CODES = new Set(['INVALID_EVENT', 'DUPLICATE_KEY', 'CAMERA_OF_ANOTHER_AGENT', 'TOO_MANY_CAMERAS']);
/** Ingest's refusal of JSON that is no object: about the whole event, no field of it (`field: null`, test/bad-input.e2e.spec.ts). */
const NOT_AN_OBJECT = 'an event must be a JSON object';
const AGENT_REASONS: readonly string[] = [
  DeadLetterReason.MALFORMED_MESSAGE,
  DeadLetterReason.INVALID_EVENT,
  DeadLetterReason.PAYLOAD_TOO_LARGE,
  DeadLetterReason.WRONG_AGENT,
  DeadLetterReason.DUPLICATE_KEY,
  DeadLetterReason.CAMERA_OF_ANOTHER_AGENT,
  DeadLetterReason.TOO_MANY_CAMERAS,
];
/** Dead-letter reasons whose detail names the field at fault (`<code>: <field>: …`). */
const AGENT_FIELD_REASONS = new Set<string>([DeadLetterReason.INVALID_EVENT, DeadLetterReason.DUPLICATE_KEY, DeadLetterReason.WRONG_AGENT, DeadLetterReason.CAMERA_OF_ANOTHER_AGENT]);
/** Codes a GraphQL answer may carry for a caller's mistake; anything else (INTERNAL_SERVER_ERROR, UNAVAILABLE on a healthy stack) is a failure. */
const GRAPHQL_CODES = ['BAD_USER_INPUT', 'NOT_FOUND', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'QUERY_TOO_COSTLY', 'QUERY_TOO_DEEP', 'TOO_MANY_ALIASES', 'PAYLOAD_TOO_LARGE'];
const GRAPHQL_FIELD_CODES = new Set(['BAD_USER_INPUT', 'NOT_FOUND']);
/** Mutations a webhook-dispatcher carries out: UNAVAILABLE, and nothing else, while none runs. */
const DISPATCHER_COMMANDS = new Set(['resubmitDeadLetters', 'discardDeadLetters']);
/** Close codes of a refused websocket: the application's range, and the standard "try again" ones. */
const isRefusalClose = (code: number) => (code >= 4000 && code <= 4999) || [1008, 1009, 1012, 1013].includes(code);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const show = (value: unknown): string => (typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value))).slice(0, 400);

function jsonOf(answer: Answer): unknown {
  try {
    return JSON.parse(answer.body.toString('utf8'));
  } catch {
    throw new Error(`answered ${answer.status} with a body that is not JSON: ${show(answer.body.toString('utf8'))}`);
  }
}

/**
 * A 4xx in the edge's error shape: a code of `codes`, a message, and (for
 * `fieldCodes`) the field at fault; `{ code, field, message }`, or GraphQL's
 * `{ errors: [{ message, extensions: { code } }] }`, which the api's HTTP
 * edge answers to a body it does not read. Returns the code.
 */
function expectRefusal(answer: Answer, codes: readonly string[], fieldCodes: ReadonlySet<string> = new Set()): string {
  if (answer.status < 400 || answer.status >= 500) throw new Error(`answered ${answer.status}: ${show(answer.body.toString('utf8'))}`);
  const parsed = jsonOf(answer) as { errors?: Array<{ message?: unknown; extensions?: Record<string, unknown> }> } | null;
  const graphqlError = Array.isArray(parsed?.errors) ? parsed.errors[0] : undefined;
  const body = (graphqlError ? { ...graphqlError.extensions, message: graphqlError.message } : parsed) as Record<string, unknown> | null;
  const code = body?.code;
  if (typeof code !== 'string' || !codes.includes(code)) throw new Error(`answered ${answer.status} without one of its codes: ${show(body)}`);
  if (typeof body?.message !== 'string' || body.message.length === 0) throw new Error(`answered ${answer.status} ${code} without a message: ${show(body)}`);
  // The field as the input named it: a multipart part named "" is refused as field "".
  if (fieldCodes.has(code) && typeof body.field !== 'string' && body.message !== NOT_AN_OBJECT) throw new Error(`answered ${answer.status} ${code} without the field at fault: ${show(body)}`);
  return code;
}

/** Every message of a stream (on `subject` when given), in order. */
async function streamMessages(stack: TestStack, stream: string, subject?: string): Promise<JsMsg[]> {
  const nats = await stack.natsClient();
  const total = (await nats.manager.streams.info(stream)).state.messages;
  const consumer = await nats.jetstream.consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages: JsMsg[] = [];
  while (messages.length < total) {
    const batch = await consumer.fetch({ max_messages: Math.min(500, total - messages.length), expires: 5_000 });
    const before = messages.length;
    for await (const message of batch) messages.push(message);
    if (messages.length === before) break;
  }
  return subject ? messages.filter((message) => message.subject === subject) : messages;
}

/** An event as stored or delivered passes the schema the apps validate with, and carries no attached images. */
function expectConformingEvent(text: string, where: string): void {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where} is not JSON (${(error as Error).message}): ${show(text)}`);
  }
  const result = validateEvent(value);
  if (!result.ok) throw new Error(`${where} fails the event schema (${result.rejection.message}): ${show(text)}`);
  if ('images' in (value as object)) throw new Error(`${where} still carries its images field`);
}

/** The body limit of a request the byte count sends: ingest's, the api's with a token or without one. */
const bodyLimitOf = (to: string): number => (to.startsWith('ingest') ? LIMITS.body : to === 'api anonymous' ? API_BODY.anonymous : API_BODY.token);

export interface EdgeFuzzBudget {
  /** Inputs each edge is given. */
  runs: number;
  /** Jest's limit for each edge's test. */
  timeoutMs: number;
}

/**
 * A body the api refused unread and closed the connection on while it was
 * still being sent (the 413 it answered lost with the connection): only a
 * body over the limit may end so.
 */
function closedUnread(body: Uint8Array, limit: number): string {
  if (body.byteLength <= limit) throw new Error(`the connection closed while a body of ${body.byteLength} bytes, within the ${limit}-byte limit, was sent`);
  return 'closed unread (over the limit)';
}

/**
 * The edge fuzz suite (docs/reliability.md: The edge fuzz suite): every way
 * into the service gets `runs` fuzzed inputs on one stack, and each must be
 * accepted, or refused with a 4xx that has a code (and the field at fault
 * where the edge names fields), never answered 5xx nor crash an app; what is
 * accepted is stored and delivered in its schema; and the bytes an app reads
 * before it refuses a request are bounded by its limit, whatever the size.
 * After each edge every app is alive and a valid request still works.
 */
export function describeEdgeFuzz({ runs, timeoutMs }: EdgeFuzzBudget): void {
  describe(`every edge under fuzzing (seed ${FUZZ_SEED}, ${runs} inputs per edge)`, () => {
    const imageKey = randomBytes(32);
    /** Per edge, how its inputs ended (an answer's status and code, a close code, a dead letter's reason), and how often. */
    const outcomes = new Map<string, Map<string, number>>();
    let stack: TestStack;
    let client: TestClient;
    /** The websocket endpoint without filters whose client gets every event stored. */
    let endpointId: string;
    /** Records the fuzzed calls may name: a websocket endpoint with a token, origins and a cap; a webhook endpoint; a filter; a READ_ONLY token. */
    let guarded: { id: string; token: string };
    let webhookId: string;
    let filterId: string;
    let readerId: string;
    /** Event ids ingest answered 202 for (not a duplicate), over HTTP. */
    const accepted: string[] = [];

    beforeAll(async () => {
      const images = { IMAGE_ACCESS: 'signed', IMAGE_LINK_KEY: imageKey.toString('base64') };
      stack = await TestStack.start({
        appEnv: {
          ingest: { INGEST_MAX_EVENT_BYTES: String(LIMITS.event), INGEST_MAX_BODY_BYTES: String(LIMITS.body), INGEST_MAX_IMAGE_BYTES: String(LIMITS.image), ...images },
          api: images,
        },
      });
      // Each mutation waits for the data path to apply it: made side by side.
      [endpointId, guarded, webhookId, readerId] = await Promise.all([
        stack.createWebsocketEndpoint('fuzz deliveries'),
        guardedEndpoint(),
        stack.createWebhookEndpoint('https://receiver.test/hook', 'fuzz webhook'),
        stack.graphql('mutation { createApiToken(name: "fuzz reader", scope: READ_ONLY) { apiToken { id } } }').then((result) => result.data.createApiToken.apiToken.id as string),
      ]);
      filterId = await stack.createEventFilter({ name: 'fuzz filter', endpointIds: [webhookId] });
      client = await TestClient.connect(stack.websocketUrl(endpointId));
      await stack.waitForConfig();
      console.log(`edge fuzz: seed ${FUZZ_SEED}, ${runs} inputs per edge; FUZZ_SEED=${FUZZ_SEED} replays this run`);
    });

    afterAll(async () => {
      const tallies = [...outcomes].map(([edge, counts]) => {
        const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
        return `${edge} ${total} [${[...counts].map(([outcome, count]) => `${outcome} ×${count}`).join(', ')}]`;
      });
      console.log(`edge fuzz (seed ${FUZZ_SEED}), inputs tried per edge:\n${tallies.join('\n')}`);
      client?.close();
      await stack?.stop();
    });

    async function guardedEndpoint(): Promise<{ id: string; token: string }> {
      const id = await stack.createWebsocketEndpoint('fuzz guarded');
      const access = await stack.graphql('mutation($id: ID!) { setWebSocketAccess(endpointId: $id, access: { requireToken: true, allowedOrigins: ["https://app.example"], maxConnections: 2 }) { id } }', { id });
      expect(access.errors).toBeUndefined();
      const rotated = await stack.graphql('mutation($id: ID!) { rotateWebSocketToken(endpointId: $id) }', { id });
      return { id, token: rotated.data.rotateWebSocketToken as string };
    }

    function count(edge: string, outcome: string): void {
      const counts = outcomes.get(edge) ?? new Map<string, number>();
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      outcomes.set(edge, counts);
    }

    /**
     * Runs the edge's property over `examples` (the failures it found before,
     * kept), then `budget` drawn inputs, counting how each ended (what the
     * property returns). An input met after an app died is not judged: the
     * one that killed it stays the counterexample.
     */
    async function fuzz<T>(edge: string, arbitrary: fc.Arbitrary<T>, property: (input: T) => Promise<string>, { budget = runs, examples = [] }: { budget?: number; examples?: readonly T[] } = {}): Promise<void> {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (input) => {
          if (stack.unexpectedExit) return;
          count(edge, await property(input));
        }),
        fuzzParameters(budget + examples.length, examples),
      );
    }

    /** Every app alive, and a valid event still goes from ingest to a websocket client, the API still answers, the gateway still admits. */
    async function stillServes(): Promise<void> {
      stack.assertAlive();
      // An agent and camera of its own: a fuzzed event the ingest accepted may have named the seed's camera for another
      // agent first, and a camera belongs to the first agent that reports it (CAMERA_OF_ANOTHER_AGENT, 403).
      const event = freshEvent({ agentId: randomUUID() });
      expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
      accepted.push(event.event.id);
      await waitFor(() => client.eventIds().includes(event.event.id), { what: `event ${event.event.id} to reach the websocket client` });
      expect((await stack.graphql('{ endpoints { totalCount } }')).errors).toBeUndefined();
      const probe = await TestClient.connect(stack.websocketUrl(endpointId));
      probe.close();
    }

    function judgeIngest(answer: Answer): string {
      if (answer.status !== 202) return `${answer.status} ${expectRefusal(answer, INGEST_CODES, INGEST_FIELD_CODES)}`;
      const body = jsonOf(answer) as { id: unknown; duplicate: unknown };
      expect(body).toEqual({ id: expect.any(String), duplicate: expect.any(Boolean) });
      if (body.duplicate) return '202 duplicate';
      accepted.push(body.id as string);
      return '202';
    }

    const postToIngest = (contentType: string, body: Uint8Array) =>
      send(stack.url('ingest', '/event-service/events'), { method: 'POST', headers: { 'content-type': contentType, token: stack.token }, body });

    it(
      'ingest: the HTTP body',
      async () => {
        const bodies = eventBody({ maxImageBytes: LIMITS.image, paddings: [LIMITS.event, LIMITS.body] });
        const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream');
        // Without links: ingest writes such an event again (to fill them), which is where deep nesting overflowed.
        const seed = JSON.stringify(freshEvent({ withoutLinks: true }));
        const failures: Array<[Uint8Array, string]> = [
          [Buffer.from(seed.replace('{', `{"deep":${'['.repeat(5_000)}${']'.repeat(5_000)},`)), 'application/json'],
          [Buffer.from(`\ufeff${seed}`), 'application/json'],
          [Buffer.from('0'), 'application/json'],
        ];
        await fuzz('ingest body', fc.tuple(bodies, contentType), async ([body, type]) => judgeIngest(await postToIngest(type, body)), { examples: failures });
        await stillServes();
      },
      timeoutMs,
    );

    it(
      'ingest: multipart/form-data',
      async () => {
        const events = eventText(fc.oneof(validEvent({ maxImageBytes: LIMITS.image }), fuzzedEvent(validEvent({ maxImageBytes: LIMITS.image }))), [LIMITS.event, LIMITS.body]);
        const failures = [
          { contentType: 'multipart/form-data', body: Buffer.from('--b--\r\n') },
          { contentType: 'multipart/form-data; boundary=b', body: Buffer.from('--b\r\nContent-Disposition: form-data; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\nxx\r\n--b--\r\n') },
        ];
        await fuzz('ingest multipart', multipartRequest(events, LIMITS.image), async ({ contentType, body }) => judgeIngest(await postToIngest(contentType, body)), { examples: failures });
        await stillServes();
      },
      timeoutMs,
    );

    it(
      'ingest: the agents NATS subject',
      async () => {
        const nats = await stack.natsClient();
        const agentId = randomUUID();
        const published: Array<{ seq: number; body: Uint8Array }> = [];
        // A key with a line break: its dead letter's detail once could not be written as a NATS header.
        const failures = [{ agent: agentId, body: Buffer.from('{"a\\n":1,"a\\n":2}'), headers: [] }];
        await fuzz(
          'agent NATS message',
          agentMessage(agentId, { maxImageBytes: LIMITS.image, paddings: [LIMITS.event, LIMITS.body] }),
          async ({ agent, body, headers }) => {
            const sent = natsHeaders();
            for (const [name, value] of headers) sent.append(name, value);
            const ack = await nats.jetstream.publish(nats.topology.agentEvents(agent), body, { headers: sent });
            if (ack.duplicate) return 'a Nats-Msg-Id repeated: not stored again';
            published.push({ seq: ack.seq, body });
            return 'published';
          },
          { examples: failures },
        );
        // Each message ends stored or dead-lettered with a reason, none retried for ever.
        await waitFor(
          () => stack.caughtUp(nats.topology.streams.ingress, DURABLES.ingest),
          { timeoutMs: 30_000, what: 'ingest to settle every agent message' },
        );
        const deadLetters = new Map<number, { reason: string; detail: string }>();
        for (const message of await streamMessages(stack, nats.topology.streams.deadLetters)) {
          deadLetters.set(Number(message.headers?.get(Headers.sourceSequence)), { reason: message.headers?.get(Headers.reason) ?? '', detail: message.headers?.get(Headers.detail) ?? '' });
        }
        const stored = new Set((await streamMessages(stack, nats.topology.streams.events, nats.topology.ingestedEvents)).map((message) => idKey(JSON.parse(message.string()).event.id)));
        for (const { seq, body } of published) {
          const input = show(Buffer.from(body).toString('utf8'));
          const dead = deadLetters.get(seq);
          if (dead) {
            if (!AGENT_REASONS.includes(dead.reason)) throw new Error(`agent message ${seq} dead-lettered as ${dead.reason} (${dead.detail}): ${input}`);
            // The field's path, then what is wrong with it; a key may begin with a space (`{" x":1," x":2}`), so any
            // path that is not empty counts.
            if (AGENT_FIELD_REASONS.has(dead.reason) && !/^[A-Z_]+: (?!: ).+?: /s.test(dead.detail) && !dead.detail.endsWith(NOT_AN_OBJECT)) {
              throw new Error(`agent message ${seq} dead-lettered as ${dead.reason} without the field at fault (${dead.detail}): ${input}`);
            }
            count('agent NATS message, settled', `dead letter ${dead.reason}`);
            continue;
          }
          let id: string | null = null;
          try {
            id = idKey(String(JSON.parse(Buffer.from(body).toString('utf8')).event.id));
          } catch {
            // Not JSON, or no event id: it had to be dead-lettered.
          }
          if (id === null || !stored.has(id)) throw new Error(`agent message ${seq} was neither stored nor dead-lettered: ${input}`);
          count('agent NATS message, settled', 'stored');
        }
        await stillServes();
      },
      timeoutMs,
    );

    it(
      'stores and delivers only events that pass the event schema',
      async () => {
        const nats = await stack.natsClient();
        const events = await streamMessages(stack, nats.topology.streams.events, nats.topology.ingestedEvents);
        for (const message of events) expectConformingEvent(message.string(), `stored event ${message.seq}`);
        const ids = new Set(events.map((message) => idKey(JSON.parse(message.string()).event.id)));
        expect(accepted.filter((id) => !ids.has(idKey(id)))).toEqual([]);
        expect(events.length).toBe((await stack.metrics('ingest')).value('event_service_events_ingested_total'));
        // Every event stored reaches the client of the endpoint without filters, once, as a text frame in the schema.
        await client.waitForEvents(events.length, 30_000);
        expect(client.frames.length).toBe(events.length);
        for (const [index, frame] of client.frames.entries()) {
          expect(frame.binary).toBe(false);
          expectConformingEvent(frame.text, `websocket frame ${index}`);
        }
      },
      timeoutMs,
    );

    it(
      'the websocket URL and its query',
      async () => {
        const port = stack.ports.get('websocket-gateway')!.main;
        const requests = upgradeRequest({ ids: [endpointId, guarded.id, webhookId], tokens: [guarded.token, stack.token, 'ewt_wrong'], eventIds: () => accepted });
        const handshake: Array<[string, string]> = [
          ['Sec-WebSocket-Version', '13'],
          ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
        ];
        // A target that is no URL once took the gateway down.
        const failures = [`//%-04i*4m/?endpoint_id=${endpointId}`, '//['].map((target) => ({ target, headers: handshake }));
        await fuzz('websocket upgrade', requests, async (request) => {
          const outcome = await upgrade(port, request.target, request.headers);
          if (outcome.kind === 'ended') throw new Error(`the gateway ended the connection without an answer to ${show(request)}`);
          if (outcome.kind === 'http' && (outcome.status < 400 || outcome.status >= 500)) throw new Error(`the gateway answered ${show(outcome.head)} to ${show(request)}`);
          if (outcome.kind === 'closed' && !(isRefusalClose(outcome.code) && outcome.reason.length > 0)) throw new Error(`the gateway closed with ${outcome.code} "${outcome.reason}" for ${show(request)}`);
          return outcome.kind === 'http' ? `HTTP ${outcome.status}` : outcome.kind === 'closed' ? `closed ${outcome.code}` : 'open';
        }, { examples: failures });
        await stillServes();
      },
      timeoutMs,
    );

    it(
      'the dashboard session cookie and sign-in',
      async () => {
        const session = stack.url('api', '/event-service/session');
        const signedIn = await send(session, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ token: stack.token })) });
        expect(signedIn.status).toBe(200);
        const valid = String(signedIn.headers['set-cookie']).split(';')[0]!;
        const graphql = stack.url('api', '/event-service/graphql');
        await fuzz('session cookie', sessionCookie(valid), async (cookie) => {
          const answer = await send(session, { headers: { cookie } });
          if (answer.status !== 200) expectRefusal(answer, ['UNAUTHENTICATED']);
          // The API takes the cookie exactly as the session does.
          const call = await send(graphql, { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: Buffer.from('{"query":"{ endpoints { totalCount } }"}') });
          expect({ cookie, session: answer.status, graphql: call.status }).toEqual({ cookie, session: answer.status, graphql: answer.status === 200 ? 200 : 401 });
          return String(answer.status);
        });
        const failures = [{ body: Buffer.from(`{{"token":"${stack.token}"}`), contentType: 'application/json', site: null }];
        await fuzz('session sign-in', signIn([stack.token, 'wrong-token-wrong-token', '']), async ({ body, contentType, site }) => {
          const headers: Record<string, string> = { ...(contentType === null ? {} : { 'content-type': contentType }), ...(site === null ? {} : { 'sec-fetch-site': site }) };
          const answer = await send(session, { method: 'POST', headers, body });
          if (answer.status !== 200) return `${answer.status} ${expectRefusal(answer, ['BAD_USER_INPUT', 'UNAUTHENTICATED', 'FORBIDDEN', 'PAYLOAD_TOO_LARGE', 'LENGTH_REQUIRED', 'BAD_REQUEST', 'UNSUPPORTED_MEDIA_TYPE'])}`;
          expect(jsonOf(answer)).toEqual({ scope: 'ADMIN', endpointIds: null });
          expect(String(answer.headers['set-cookie'])).toMatch(/^es_session=[^;]+; Path=\/event-service; .*HttpOnly; SameSite=Strict/);
          return '200';
        }, { examples: failures });
        await stillServes();
      },
      timeoutMs,
    );

    it(
      'the image URL',
      async () => {
        const face = randomBytes(500);
        const event = freshEvent({ withoutLinks: true, agentId: randomUUID() });
        event.images = { image: { content_type: 'image/png', data: face.toString('base64') } };
        expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
        accepted.push(event.event.id);
        await waitFor(() => client.eventIds().includes(event.event.id), { what: 'the event with an image' });
        const link = new URL(client.events.find((delivered) => delivered.event.id === event.event.id)!.event.image_link as string);
        const api = stack.url('api', '/');
        const requests = fc.tuple(imagePath({ id: link.pathname.split('/').at(-1)!, query: link.search.slice(1) }), fc.constantFrom(null, stack.token, 'wrong-token-wrong-token'));
        const failures: Array<[string, string | null]> = [
          ['/event-service/get-image/', null],
          ['/event-service/get-image/%zz', null],
        ];
        await fuzz(
          'image URL',
          requests,
          async ([path, token]) => {
            const answer = await send(api, { path, headers: token === null ? {} : { token } });
            if (answer.status !== 200) return `${answer.status} ${expectRefusal(answer, ['UNAUTHENTICATED', 'NOT_FOUND', 'BAD_REQUEST'])}`;
            expect({ path, image: answer.body.equals(face), type: answer.headers['content-type'] }).toEqual({ path, image: true, type: 'image/png' });
            return '200';
          },
          { examples: failures },
        );
        await stillServes();
      },
      timeoutMs,
    );

    it(
      'every GraphQL input type',
      async () => {
        // The endpoint whose client counts deliveries stays out of reach: a filter made for it would hold events back.
        const known = [guarded.id, webhookId, filterId, readerId];
        const sdl = readFileSync(join(projectRoot(), 'apps', 'api', 'schema.graphql'), 'utf8');
        const url = stack.url('api', '/event-service/graphql');
        const fields = graphqlCalls(sdl, () => known);
        const failures: Record<string, Array<Record<string, unknown>>> = {
          revokeApiToken: [{ id: randomUUID() }],
          createWebSocketEndpoint: [{ name: '\u0000' }],
          deliveryAttempts: [{ filters: { attemptedAt: { lt: 'yesterday' } } }],
          lostEvents: [{ filters: { date: { gte: '-271821-04-20T00:00:00.000Z' } } }],
          updateEndpoint: [{ id: 0, headers: Array.from({ length: 51 }, () => []) }],
          createEventFilters: [{ eventFiltersInput: { name: 'f', endpointIds: Array.from({ length: 10_050 }, () => webhookId) } }],
          replayJobs: [{ filters: { id: { in: [] } } }, { filters: { endpointId: { in: [] } } }],
          deadLetters: [{ filters: { id: { in: [] } } }, { filters: { app: { in: [] } } }],
        };
        // Every query and mutation its share of the inputs, so that each input type is fuzzed whatever the budget.
        for (const { field, calls, call } of fields) {
          await fuzz(
            'GraphQL call',
            calls,
            async (call) => {
              const request = Buffer.from(JSON.stringify({ query: call.query, variables: call.variables }));
              const answer = await send(url, { method: 'POST', headers: { 'content-type': 'application/json', token: stack.token }, body: request });
              if (answer.status === CLOSED_WHILE_SENDING) return closedUnread(request, API_BODY.token);
              if (answer.status >= 500) throw new Error(`answered ${answer.status} to ${call.field} ${show(call.variables)}: ${show(answer.body.toString('utf8'))}`);
              const body = jsonOf(answer) as { data?: Record<string, any> | null; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
              // A body the api does not read (over its limit) is refused before GraphQL sees it.
              if (answer.status >= 400 && !body.errors) return `${answer.status} ${expectRefusal(answer, GRAPHQL_CODES)}`;
              for (const error of body.errors ?? []) {
                const code = error.extensions?.code;
                const where = `${call.field} ${show(call.variables)}: ${show(error)}`;
                // The dead-letter commands are carried out by a webhook-dispatcher, which this stack does not run.
                if (code === 'UNAVAILABLE' && DISPATCHER_COMMANDS.has(call.field)) continue;
                if (typeof code !== 'string' || !GRAPHQL_CODES.includes(code)) throw new Error(`answered ${code ?? 'no code'} to ${where}`);
                if (!GRAPHQL_FIELD_CODES.has(code)) continue;
                const field = error.extensions?.field;
                // GraphQL's own refusal of a variable that does not fit the schema names the variable in its message instead, and
                // after 50 of them it stops counting (docs/api.md).
                if (code === 'BAD_USER_INPUT' && field === undefined && (error.message.startsWith('Variable "$') || error.message.startsWith('Too many errors processing variables'))) continue;
                if (typeof field !== 'string' || !call.fieldRoots.has(field.split('.')[0]!)) throw new Error(`answered ${code} without a field of the call's input to ${where}`);
              }
              if (body.errors) return `${answer.status} ${String(body.errors[0]!.extensions?.code)}`;
              expect({ field: call.field, status: answer.status, answered: body.data?.[call.field] !== undefined }).toEqual({ field: call.field, status: 200, answered: true });
              const made = body.data?.[call.field] as { id?: unknown; apiToken?: { id?: unknown } } | null;
              const id = made?.id ?? made?.apiToken?.id;
              if (typeof id === 'string' && !known.includes(id)) known.push(id);
              return '200 data';
            },
            { budget: Math.max(1, Math.round(runs / fields.length)), examples: (failures[field] ?? []).map(call) },
          );
        }
        // Whole request bodies: valid calls with their query's text or their bytes changed, random bytes, events.
        const anyCall = fc.oneof(...fields.map(({ calls }) => calls));
        const punctuation = fc.constantFrom(...'{}()[]:$!@".,=|&... \n#0aZ_'.split(''), '...', 'query', 'mutation', 'fragment', '__schema', '__typename');
        const changedQueries = anyCall.chain((call) => mutatedText(fc.constant(call.query), punctuation).map((query) => Buffer.from(JSON.stringify({ query, variables: call.variables }))));
        const changedBytes = mutatedBytes(anyCall.map((call) => Buffer.from(JSON.stringify({ query: call.query, variables: call.variables }))));
        const bodies = fc.oneof({ weight: 3, arbitrary: changedQueries }, { weight: 2, arbitrary: changedBytes }, anyBytes(), eventBody({ maxImageBytes: LIMITS.image, paddings: [API_BODY.anonymous, API_BODY.token] }));
        await fuzz('GraphQL body', bodies, async (body) => {
          const answer = await send(url, { method: 'POST', headers: { 'content-type': 'application/json', token: stack.token }, body });
          if (answer.status === CLOSED_WHILE_SENDING) return closedUnread(body, API_BODY.token);
          if (answer.status >= 400) return `${answer.status} ${expectRefusal(answer, GRAPHQL_CODES)}`;
          if (answer.status >= 300) throw new Error(`answered ${answer.status}: ${show(answer.body.toString('utf8'))}`);
          const errors = (jsonOf(answer) as { errors?: Array<{ path?: unknown[]; extensions?: { code?: unknown } }> }).errors ?? [];
          for (const error of errors) {
            // A body still a whole dead-letter command reaches the dispatcher this stack does not run, as in the calls above.
            if (error.extensions?.code === 'UNAVAILABLE' && DISPATCHER_COMMANDS.has(String(error.path?.[0]))) continue;
            if (typeof error.extensions?.code !== 'string' || !GRAPHQL_CODES.includes(error.extensions.code)) throw new Error(`answered ${answer.status} with ${show(error)} to ${show(body.toString())}`);
          }
          return errors.length > 0 ? `${answer.status} ${String(errors[0]!.extensions!.code)}` : `${answer.status} data`;
        });
        await expectStoredConfigConforms();
        await stack.waitForConfig();
        await stillServes();
      },
      timeoutMs,
    );

    /** What the fuzzed mutations made reads back through the API, in the shape its input rules allow. */
    async function expectStoredConfigConforms(): Promise<void> {
      const page = 200;
      const isOrigin = (value: string) => new URL(value).origin === value;
      for (let offset = 0; ; offset += page) {
        const result = await stack.graphql(
          'query($offset: Int!, $limit: Int!) { endpoints(pagination: { offset: $offset, limit: $limit }) { totalCount collectionItems { id name type state creationDate lastModified meta { url method headerNames maxRatePerSecond hasOwnToken access { requireToken allowedOrigins maxConnections } } eventFilters { id } } } }',
          { offset, limit: page },
        );
        expect(result.errors).toBeUndefined();
        for (const endpoint of result.data.endpoints.collectionItems) {
          const where = show(endpoint);
          expect({ where, id: UUID.test(endpoint.id), name: endpoint.name === endpoint.name.trim() && endpoint.name.length >= 1 && endpoint.name.length <= 200 }).toEqual({ where, id: true, name: true });
          if (endpoint.type === 'WEB_HOOK') {
            const url = new URL(endpoint.meta.url!);
            const rate = endpoint.meta.maxRatePerSecond;
            expect({
              where,
              url: ['http:', 'https:'].includes(url.protocol) && url.username === '' && url.password === '',
              method: ['POST', 'PUT', 'PATCH'].includes(endpoint.meta.method!),
              rate: rate === null || rate === undefined || (Number.isInteger(rate) && rate >= 0 && rate <= 100_000),
            }).toEqual({ where, url: true, method: true, rate: true });
          } else {
            const access = endpoint.meta.access;
            const fits = !access || (access.allowedOrigins.length <= 50 && access.allowedOrigins.every(isOrigin) && (access.maxConnections === null || (access.maxConnections! >= 1 && access.maxConnections! <= 100_000)));
            expect({ where, access: fits }).toEqual({ where, access: true });
          }
        }
        if (offset + page >= result.data.endpoints.totalCount) break;
      }
      for (let offset = 0; ; offset += page) {
        const result = await stack.graphql(
          'query($offset: Int!, $limit: Int!) { eventsFilters(pagination: { offset: $offset, limit: $limit }) { totalCount collectionItems { id name routesEvents creationDate lastModified in { cameraIds agentIds profileGroupIds eventTypes } endpoints { id } } } }',
          { offset, limit: page },
        );
        expect(result.errors).toBeUndefined();
        for (const filter of result.data.eventsFilters.collectionItems) {
          const where = show(filter);
          const ids = [filter.id, ...filter.in.cameraIds, ...filter.in.agentIds, ...filter.in.profileGroupIds, ...filter.endpoints.map((endpoint) => endpoint.id)];
          expect({ where, ids: ids.every((id) => UUID.test(id)), name: filter.name === filter.name.trim() && filter.name.length >= 1 && filter.name.length <= 200 }).toEqual({ where, ids: true, name: true });
        }
        if (offset + page >= result.data.eventsFilters.totalCount) break;
      }
      const tokens = await stack.graphql('{ apiTokens(pagination: { limit: 1000 }) { collectionItems { id name scope agentIds } } }');
      expect(tokens.errors).toBeUndefined();
      for (const token of tokens.data.apiTokens.collectionItems) {
        expect({ token, fits: token.name === token.name.trim() && token.name.length >= 1 && token.agentIds.every((id) => UUID.test(id)) }).toEqual({ token, fits: true });
      }
    }

    it(
      'reads no more of a request than its limit before refusing it, whatever its size',
      async () => {
        const proxies = {
          ingest: await TcpProxy.start(stack.ports.get('ingest')!.main),
          api: await TcpProxy.start(stack.ports.get('api')!.main),
          'websocket-gateway': await TcpProxy.start(stack.ports.get('websocket-gateway')!.main),
        };
        try {
          const size = (limit: number) => fc.oneof(fc.integer({ min: 0, max: limit }), fc.integer({ min: limit + 1, max: 4 * limit }), fc.integer({ min: 4 * limit, max: 2 ** 40 }));
          const requests = fc.oneof(
            fc
              .constantFrom('ingest json', 'ingest multipart', 'api with a token', 'api anonymous')
              .chain((to) => fc.record({ kind: fc.constant('body' as const), to: fc.constant(to), chunked: fc.boolean(), size: size(bodyLimitOf(to)), prefix: fc.nat(1_024) })),
            fc.record({ kind: fc.constant('headers' as const), to: fc.constantFrom('ingest' as const, 'api' as const, 'websocket-gateway' as const), size: size(HEADER_BYTES) }),
            fc.record({ kind: fc.constant('frame' as const), size: size(WS_FRAME) }),
          );
          await fuzz(
            'bytes before a refusal',
            requests,
            async (request) => {
              if (request.kind === 'frame') return frameRead(proxies['websocket-gateway'], request.size);
              if (request.kind === 'headers') return headersRead(proxies[request.to], Math.min(request.size, 8 * HEADER_BYTES));
              return bodyRead(request.to.startsWith('ingest') ? proxies.ingest : proxies.api, request);
            },
            {
              budget: Math.ceil(runs / 2),
              examples: [
                { kind: 'body', to: 'api with a token', chunked: false, size: API_BODY.token + 1, prefix: 0 },
                { kind: 'body', to: 'api with a token', chunked: true, size: API_BODY.token + 1, prefix: 0 },
                { kind: 'body', to: 'ingest multipart', chunked: true, size: LIMITS.body + 1, prefix: 0 },
              ],
            },
          );
        } finally {
          for (const proxy of Object.values(proxies)) await proxy.close();
        }
        await stillServes();
      },
      timeoutMs,
    );

    /**
     * A body of `size` bytes: one within the limit is sent whole (and read
     * whole); of one over it only what the app needs to refuse it is sent
     * (a declared length: `prefix` bytes; an undeclared one: the limit and
     * one byte, none to the api, which refuses it on its headers), and the
     * refusal must come from that.
     */
    async function bodyRead(proxy: TcpProxy, request: { to: string; chunked: boolean; size: number; prefix: number }): Promise<string> {
      const ingest = request.to.startsWith('ingest');
      const limit = bodyLimitOf(request.to);
      const multipart = request.to === 'ingest multipart';
      const opening = multipart ? '--fuzz\r\nContent-Disposition: form-data; name="event"\r\n\r\n{"padding":"' : ingest ? '{"padding":"' : '{"query":"';
      const over = request.size > limit;
      const headersOnly = !ingest && request.chunked;
      const sent = headersOnly ? 0 : !over ? request.size : request.chunked ? limit + 1 : Math.min(request.prefix, request.size);
      const body = Buffer.alloc(sent, 0x78);
      body.write(opening.slice(0, sent), 'latin1');
      const head = [
        `POST ${ingest ? '/event-service/events' : '/event-service/graphql'} HTTP/1.1`,
        'Host: 127.0.0.1',
        `Content-Type: ${multipart ? 'multipart/form-data; boundary=fuzz' : 'application/json'}`,
        request.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${request.size}`,
        ...(request.to === 'api anonymous' ? [] : [`Token: ${stack.token}`]),
      ].join('\r\n');
      const connection = await RawConnection.open(proxy.port);
      const before = proxy.bytesToService;
      let written = 0;
      const write = async (data: Buffer) => {
        await connection.write(data);
        written += data.length;
      };
      try {
        await write(Buffer.from(`${head}\r\n\r\n`, 'latin1'));
        for (let at = 0; at < body.length; at += 16_384) {
          const chunk = body.subarray(at, at + 16_384);
          await write(request.chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk);
        }
        if (request.chunked && !over && !headersOnly) await write(Buffer.from('0\r\n\r\n'));
        const answer = await connection.head(5_000).catch((error: Error) => {
          throw new Error(`no answer to ${show(request)} after ${written} bytes, ${sent} of its body: ${error.message}`);
        });
        if (!answer) throw new Error(`the connection ended without an answer to ${show(request)}`);
        expect({ request, read: proxy.bytesToService - before <= written }).toEqual({ request, read: true });
        if (answer.status >= 500) throw new Error(`answered ${answer.status} to ${show(request)}`);
        if (over || headersOnly) expect({ request, status: answer.status }).toEqual({ request, status: headersOnly ? 411 : 413 });
        // The refusal is in the edge's error shape: JSON with a code.
        const text = await waitFor(() => (connection.ended || /"code"/.test(connection.received.toString('latin1')) ? connection.received.toString('latin1') : null), { timeoutMs: 5_000, intervalMs: 1, what: 'the answer body' });
        if (answer.status >= 400 && !/"code":"[A-Z_]+"/.test(text)) throw new Error(`answered ${answer.status} without a code to ${show(request)}: ${show(text)}`);
        return `${request.to}${request.chunked ? ' chunked' : ''} ${over ? 'over' : 'within'} the limit: ${answer.status}`;
      } finally {
        connection.close();
      }
    }

    /** A header of `size` bytes: over Node's limit only the limit and one bytes of it are sent, and refused (431) from them. */
    async function headersRead(proxy: TcpProxy, size: number): Promise<string> {
      const over = size > HEADER_BYTES;
      const line = 'GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fill: ';
      const fill = Buffer.alloc(over ? HEADER_BYTES + 1 : size, 0x61);
      const connection = await RawConnection.open(proxy.port);
      const before = proxy.bytesToService;
      try {
        await connection.write(Buffer.concat([Buffer.from(line, 'latin1'), fill, over ? Buffer.alloc(0) : Buffer.from('\r\n\r\n')]));
        const answer = await connection.head(5_000);
        if (!answer) throw new Error(`the connection ended without an answer to ${size} bytes of headers`);
        expect({ size, read: proxy.bytesToService - before <= line.length + fill.length + 4 }).toEqual({ size, read: true });
        if (over) expect({ size, status: answer.status }).toEqual({ size, status: 431 });
        else expect({ size, status: answer.status < 500 }).toEqual({ size, status: true });
        return `headers ${over ? 'over the limit' : 'up to the limit (Node counts the request line too)'}: ${answer.status}`;
      } finally {
        connection.close();
      }
    }

    /** A client frame declaring `size` bytes: over the gateway's limit it is closed (1009) on its header alone; within it, read and the socket stays open. */
    async function frameRead(proxy: TcpProxy, size: number): Promise<string> {
      const over = size > WS_FRAME;
      const connection = await RawConnection.open(proxy.port);
      try {
        await connection.write(`GET /event-service/ws?endpoint_id=${endpointId} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
        expect((await connection.head())?.status).toBe(101);
        const before = proxy.bytesToService;
        const frame = over ? clientFrame(0x2, Buffer.alloc(0), size) : Buffer.concat([clientFrame(0x2, Buffer.alloc(size)), clientFrame(0x9, Buffer.from('after'))]);
        await connection.write(frame);
        const outcome = await waitFor(
          () => {
            for (const received of connection.frames()) {
              if (received.opcode === 0xa) return 'open';
              if (received.opcode === 0x8) return `closed ${received.payload.readUInt16BE(0)}`;
            }
            return connection.ended ? 'ended' : null;
          },
          { timeoutMs: 5_000, intervalMs: 1, what: `the gateway's answer to a frame of ${size} bytes` },
        );
        expect({ size, outcome, read: proxy.bytesToService - before <= frame.length }).toEqual({ size, outcome: over ? 'closed 1009' : 'open', read: true });
        return `frame ${over ? 'over' : 'within'} the limit: ${outcome}`;
      } finally {
        connection.close();
      }
    }
  });
}
