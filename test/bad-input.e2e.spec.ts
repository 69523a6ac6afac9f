import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DeliverPolicy } from '@nats-io/jetstream';
import { Headers } from '@app/messaging';
import { freshEvent, type EventJson } from './support/fixtures.js';
import { TestStack } from './support/stack.js';
import { TestClient } from './support/ws-client.js';

const MAX_EVENT_BYTES = 8_192;

describe('bad input at each entrance gets a clear error and stops nothing behind it', () => {
  let stack: TestStack;
  let client: TestClient;

  beforeAll(async () => {
    stack = await TestStack.start({ appEnv: { ingest: { INGEST_MAX_EVENT_BYTES: String(MAX_EVENT_BYTES) } } });
    client = await TestClient.connect(stack.websocketUrl(await stack.createWebsocketEndpoint()));
    await stack.waitForConfig();
  });

  afterAll(async () => {
    client?.close();
    await stack?.stop();
  });

  describe('POST /event-service/events', () => {
    const missingCameraId = () => {
      const event = freshEvent();
      delete event.camera.id;
      return event;
    };
    const mistypedConfidence = () => {
      const event = freshEvent();
      event.candidates[0].confidence = 'high';
      return event;
    };
    const badDate = () => {
      const event = freshEvent();
      event.event.detection_date = 'yesterday';
      return event;
    };
    const candidatesOnNonIdentification = () => ({ ...freshEvent({ type: 'non_identification' }), candidates: [] });

    it.each([
      ['malformed JSON', '{"type": "identification",', 400, 'MALFORMED_JSON', null],
      ['a JSON array', '[]', 400, 'INVALID_EVENT', null],
      ['a missing field', JSON.stringify(missingCameraId()), 400, 'INVALID_EVENT', 'camera.id'],
      ['a mistyped field', JSON.stringify(mistypedConfidence()), 400, 'INVALID_EVENT', 'candidates.0.confidence'],
      ['a malformed date', JSON.stringify(badDate()), 400, 'INVALID_EVENT', 'event.detection_date'],
      ['an unknown event type', JSON.stringify({ ...freshEvent(), type: 'smile' }), 400, 'INVALID_EVENT', 'type'],
      ['candidates on a non-identification', JSON.stringify(candidatesOnNonIdentification()), 400, 'INVALID_EVENT', 'candidates'],
      ['an oversized payload', JSON.stringify({ ...freshEvent(), padding: 'x'.repeat(MAX_EVENT_BYTES) }), 413, 'PAYLOAD_TOO_LARGE', null],
    ])('refuses %s with its field, and the next valid event still arrives', async (_case, body, status, code, field) => {
      const before = client.frames.length;

      const response = await stack.postEvent(body);

      expect(response.status).toBe(status);
      const error = (await response.json()) as { code: string; field: string | null; message: string };
      expect(error).toMatchObject({ code, field });
      expect(error.message.length).toBeGreaterThan(0);

      const valid = freshEvent();
      expect((await stack.postEvent(JSON.stringify(valid))).status).toBe(202);
      await client.waitForEvents(before + 1);
      expect(client.eventIds().slice(before)).toEqual([valid.event.id]);
    });

    it.each([
      ['a number for a text field', (event: EventJson) => (event.camera.real_name = 5), 'camera.real_name', 'must be a string or null (got number)'],
      ['a string for a number field', (event: EventJson) => (event.candidates[0].profile.age = '30'), 'candidates.0.profile.age', 'must be a number or null (got string)'],
      ['null for a required text field', (event: EventJson) => (event.camera.type = null), 'camera.type', 'must be a string (got null)'],
      ['candidates on a non-identification', (event: EventJson) => Object.assign(event, { type: 'non_identification', candidates: [] }), 'candidates', 'must be absent in a non_identification event'],
      ['a missing field', (event: EventJson) => delete event.camera.type, 'camera.type', 'is required'],
    ])('answers %s with what is wrong with it', async (_case, change, field, message) => {
      const event = freshEvent();
      change(event);

      const response = await stack.postEvent(JSON.stringify(event));

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ code: 'INVALID_EVENT', field, message: `${field}: ${message}` });
    });

    it('refuses a request without a valid token', async () => {
      const response = await stack.postEvent(JSON.stringify(freshEvent()), 'wrong-token');
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it('accepts a re-sent event once and delivers it once', async () => {
      const before = client.frames.length;
      const event = JSON.stringify(freshEvent());
      const marker = freshEvent();

      expect(await (await stack.postEvent(event)).json()).toMatchObject({ duplicate: false });
      expect(await (await stack.postEvent(event)).json()).toMatchObject({ duplicate: true });
      await stack.postEvent(JSON.stringify(marker));

      await client.waitForEvents(before + 2);
      expect(client.eventIds().slice(before)).toEqual([JSON.parse(event).event.id, marker.event.id]);
    });
  });

  describe('the agents NATS subject', () => {
    it('dead-letters invalid events with their reason and delivers the valid ones published after them', async () => {
      const agentId = randomUUID();
      const before = client.frames.length;
      const valid = freshEvent({ agentId });

      await stack.publishAgentEvent(agentId, 'not json at all');
      await stack.publishAgentEvent(agentId, JSON.stringify({ ...freshEvent({ agentId }), type: 'smile' }));
      await stack.publishAgentEvent(agentId, JSON.stringify({ ...freshEvent({ agentId }), padding: 'x'.repeat(MAX_EVENT_BYTES) }));
      // An agent speaks for itself only: an event naming another agent on its subject is refused.
      await stack.publishAgentEvent(agentId, JSON.stringify(freshEvent({ agentId: randomUUID() })));
      await stack.publishAgentEvent(agentId, JSON.stringify(valid));

      await client.waitForEvents(before + 1);
      expect(client.eventIds().slice(before)).toEqual([valid.event.id]);
      const reasons = await deadLetterReasons(stack, 4);
      // A code from the fixed set, and the detail beside it (handled concurrently: in any order).
      expect(reasons).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^MALFORMED_MESSAGE MALFORMED_JSON: /),
          expect.stringMatching(/^INVALID_EVENT INVALID_EVENT: type: must be one of identification/),
          expect.stringMatching(new RegExp(`^PAYLOAD_TOO_LARGE PAYLOAD_TOO_LARGE: .*the limit is ${MAX_EVENT_BYTES}`)),
          expect.stringMatching(new RegExp(`^WRONG_AGENT FORBIDDEN: camera.agent_id: this sender may post events of agent ${agentId} only`)),
        ]),
      );
    });
  });

  describe('GraphQL', () => {
    it.each([
      ['an empty name', 'mutation { createWebSocketEndpoint(name: "  ") { id } }', 'name'],
      ['a URL that is not http', 'mutation { createWebhookEndpoint(name: "h", url: "ftp://receiver.test") { id } }', 'url'],
      ['a URL that does not parse', 'mutation { createWebhookEndpoint(name: "h", url: "receiver") { id } }', 'url'],
      ['a malformed id filter', '{ endpoints(filters: { id: { exact: "42" } }) { totalCount } }', 'filters.id.exact'],
      ['a page too large', '{ endpoints(pagination: { limit: 100000 }) { totalCount } }', 'pagination.limit'],
      ['a malformed id to update', 'mutation { updateEndpoint(id: "42", name: "x") { id } }', 'id'],
    ])('refuses %s with BAD_USER_INPUT naming the field', async (_case, query, field) => {
      const result = await stack.graphql(query);

      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(result.errors?.[0]?.message).toContain(field);
    });

    // One case for each class-validator rule of the input classes: the first violation, its path in `field`, the message starting with it.
    const CREATE_WEBHOOK = 'mutation($name: String!, $url: String!, $headers: [HeaderInput!], $rate: Int) { createWebhookEndpoint(name: $name, url: $url, headers: $headers, maxRatePerSecond: $rate) { id } }';
    const UPDATE_ENDPOINT = 'mutation($id: ID!, $name: String, $url: String, $headers: [HeaderInput!], $rate: Int) { updateEndpoint(id: $id, name: $name, url: $url, headers: $headers, maxRatePerSecond: $rate) { id } }';
    const CREATE_FILTER = 'mutation($input: EventFiltersInput!) { createEventFilters(eventFiltersInput: $input) { id } }';
    const UPDATE_FILTER = 'mutation($id: ID!, $input: EventFiltersUpdateInput!) { updateEventFilters(id: $id, eventFiltersInput: $input) { id } }';
    const hook = { name: 'h', url: 'https://receiver.test/hook' };
    it.each([
      ['a name too long', CREATE_WEBHOOK, { ...hook, name: 'x'.repeat(201) }, 'name', 'must be at most 200 characters'],
      ['an empty name on update', UPDATE_ENDPOINT, { id: randomUUID(), name: ' ' }, 'name', 'must not be empty'],
      ['a URL with credentials', CREATE_WEBHOOK, { ...hook, url: 'https://user:secret@receiver.test/hook' }, 'url', 'must not contain credentials'],
      ['a URL that does not parse, on update', UPDATE_ENDPOINT, { id: randomUUID(), url: 'receiver' }, 'url', 'must be an absolute http or https URL'],
      ['a malformed custom header name in the list', CREATE_WEBHOOK, { ...hook, headers: [{ name: 'X-Ok', value: '1' }, { name: 'X Bad', value: '1' }] }, 'headers.1.name', 'is not a valid header name'],
      ['a custom header the dispatcher sets', UPDATE_ENDPOINT, { id: randomUUID(), headers: [{ name: 'Content-Type', value: 'text/plain' }] }, 'headers.0.name', 'Content-Type is set by the dispatcher or belongs to the connection'],
      ['a custom header value of two lines', CREATE_WEBHOOK, { ...hook, headers: [{ name: 'X-A', value: 'a\r\nInjected: 1' }] }, 'headers.0.value', 'must be one line'],
      ['a custom header value too long', CREATE_WEBHOOK, { ...hook, headers: [{ name: 'X-A', value: '1' }, { name: 'X-B', value: 'v'.repeat(4_097) }] }, 'headers.1.value', 'must be one line of at most 4096 characters'],
      ['a negative rate limit', CREATE_WEBHOOK, { ...hook, rate: -1 }, 'maxRatePerSecond', 'must be a whole number of deliveries per second'],
      ['a rate limit too high', UPDATE_ENDPOINT, { id: randomUUID(), rate: 100_001 }, 'maxRatePerSecond', 'must be a whole number of deliveries per second'],
      ['a filter name too long', CREATE_FILTER, { input: { name: 'f'.repeat(201) } }, 'name', 'must be at most 200 characters'],
      ['a malformed endpoint id of a filter', CREATE_FILTER, { input: { name: 'f', endpointIds: [randomUUID(), 'lobby'] } }, 'endpointIds.1', 'must be a UUID'],
      ['a malformed agent id in an update', UPDATE_FILTER, { id: randomUUID(), input: { in: { agentIds: ['agent-1'] } } }, 'in.agentIds.0', 'must be a UUID'],
      ['too many camera ids', CREATE_FILTER, { input: { name: 'f', in: { cameraIds: Array.from({ length: 10_001 }, () => 'x') } } }, 'in.cameraIds', 'must have at most 10000 values'],
      ['a malformed id in an id list filter', '{ endpoints(filters: { id: { in: ["72aa3a70-0000-4000-8000-000000000000", "42"] } }) { totalCount } }', {}, 'filters.id.in.1', 'must be a UUID'],
      ['a malformed camera filter of lost events', '{ lostEvents(filters: { cameraId: { exact: "camera-1" } }) { totalCount } }', {}, 'filters.cameraId.exact', 'must be a UUID'],
      ['a malformed event id filter of the delivery log', '{ deliveryAttempts(filters: { eventId: { in: ["x"] } }) { totalCount } }', {}, 'filters.eventId.in.0', 'must be a UUID'],
      ['an empty page', '{ eventsFilters(pagination: { limit: 0 }) { totalCount } }', {}, 'pagination.limit', 'must be between 1 and 1000'],
      ['a negative offset', '{ lostEvents(pagination: { offset: -1 }) { totalCount } }', {}, 'pagination.offset', 'must be 0 or more'],
    ])('refuses %s by the input class rules, naming its path', async (_case, query, variables, field, message) => {
      const result = await stack.graphql(query, variables);

      expect(result.errors).toHaveLength(1);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(result.errors?.[0]?.message).toContain(`${field}: ${message}`);
      expect(result.data ?? null).toBeNull();
    });

    it('stores a name and a URL trimmed, as the rules checked them', async () => {
      const result = await stack.graphql('mutation { createWebhookEndpoint(name: "  crm  ", url: " https://receiver.test/hook ") { id name meta { url } } }');

      expect(result.data.createWebhookEndpoint).toMatchObject({ name: 'crm', meta: { url: 'https://receiver.test/hook' } });
      await stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: result.data.createWebhookEndpoint.id });
    });

    it.each([
      ['an unknown method', 'GET', '"GET"'],
      ['a method given as a string', '"put"', '"put"'],
    ])('refuses %s as the schema does, naming the value and the WebhookMethod enum', async (_case, method, value) => {
      const result = await stack.graphql(`mutation { createWebhookEndpoint(name: "h", url: "https://receiver.test", method: ${method}) { id } }`);

      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED' });
      expect(result.errors?.[0]?.message).toContain(value);
      expect(result.errors?.[0]?.message).toContain('"WebhookMethod"');
    });

    it('answers NOT_FOUND for an endpoint that does not exist', async () => {
      const result = await stack.graphql('mutation($id: ID!) { deleteEndpoint(id: $id) }', { id: randomUUID() });
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'id' });
    });

    it('refuses a call without a token, or with a wrong one, with UNAUTHENTICATED', async () => {
      for (const token of [null, 'wrong-token']) {
        const result = await stack.graphql('{ endpoints { totalCount } }', {}, token);
        expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
        expect(result.data ?? null).toBeNull();
      }
    });

    it('keeps events flowing to existing endpoints after refused calls', async () => {
      await stack.graphql('mutation { createWebSocketEndpoint(name: "") { id } }');
      const before = client.frames.length;
      const event = freshEvent();

      await stack.postEvent(JSON.stringify(event));

      await client.waitForEvents(before + 1);
      expect(client.eventIds().slice(before)).toEqual([event.event.id]);
    });
  });
});

/** Reads the reasons of the first `count` dead-letter records, in order. */
async function deadLetterReasons(stack: TestStack, count: number): Promise<string[]> {
  const nats = await stack.natsClient();
  const consumer = await nats.jetstream.consumers.get(nats.topology.streams.deadLetters, { deliver_policy: DeliverPolicy.All });
  const reasons: string[] = [];
  while (reasons.length < count) {
    const message = await consumer.next({ expires: 10_000 });
    if (!message) throw new Error(`only ${reasons.length} of ${count} dead-letter records arrived`);
    reasons.push(`${message.headers?.get(Headers.reason) ?? ''} ${message.headers?.get(Headers.detail) ?? ''}`);
  }
  return reasons;
}
