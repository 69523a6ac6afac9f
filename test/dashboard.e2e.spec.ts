import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildSchema, graphql } from 'graphql';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Headers } from '@app/messaging';
import type { Page } from 'playwright-core';
import { projectRoot } from '../scripts/local-stack.js';
import { accessibilityViolations, applyUntilListed, DashboardSite, DESKTOP, horizontalOverflow, PHONE, postLostEvent } from './support/dashboard.js';
import { freshEvent } from './support/fixtures.js';
import { Receiver, type Answer } from './support/receiver.js';
import { TestStack } from './support/stack.js';
import { waitFor } from './support/wait.js';

/** Waits until the page's list shows exactly these names, in this order (a list answers after its filter or page changes). */
const namesAre = (page: Page, expected: string[]) =>
  page.waitForFunction((want: string) => {
    const { document } = globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<{ textContent: string | null }> } };
    return JSON.stringify([...document.querySelectorAll('table.list tbody tr td:first-child')].map((cell) => cell.textContent)) === want;
  }, JSON.stringify(expected));
/** The status the GraphQL endpoint answers the page's own request with (its cookie, if any). */
const GRAPHQL_STATUS = `fetch('/event-service/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ endpoints { totalCount } }"}' }).then((response) => response.status)`;
const cardIdOf = (page: Page): string => decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
/** The page as it is now passes axe-core's WCAG 2.1 A and AA rules; a failure lists each rule, its impact and its elements. */
async function expectAccessible(page: Page, where: string): Promise<void> {
  expect({ where, violations: await accessibilityViolations(page) }).toEqual({ where, violations: [] });
}

/**
 * The dashboard in real headless Chromium against the running service, as
 * an operator uses it. Each test makes what it needs (through the API, or
 * through the dashboard when that is what it shows) and works in a browser
 * context of its own, so that one failing leaves the others their say.
 */
describe('the dashboard in headless Chromium', () => {
  let stack: TestStack;
  let site: DashboardSite;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    stack = await TestStack.start({
      apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'],
      env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
      // One quick retry: a delivery the receiver refuses twice is FAILED, and can be resent. The served schema is read by introspection.
      appEnv: { 'webhook-dispatcher': { WEBHOOK_RETRY_SCHEDULE: '50ms' }, api: { GRAPHQL_INTROSPECTION: 'true' } },
    });
    site = await DashboardSite.start(stack);
  });

  afterAll(async () => {
    await site?.close();
    await stack?.stop();
    await Promise.all(receivers.map((receiver) => receiver.close()));
  });

  /** A signed-in page of its own, its Content-Security-Policy violations collected (DashboardSite). */
  function signedIn(path = '/endpoints', token = stack.token): Promise<Page> {
    return site.signedInPage(token, path);
  }

  async function receiverAnswering(answer: (index: number) => Answer): Promise<Receiver> {
    const receiver = await Receiver.start(answer);
    receivers.push(receiver);
    return receiver;
  }

  /** A webhook endpoint to `receiver`, sent the events of a camera of its own. */
  async function webhookOf(receiver: Receiver, name: string): Promise<{ id: string; camera: string }> {
    const id = await stack.createWebhookEndpoint(receiver.url, name);
    const camera = randomUUID();
    await stack.createEventFilter({ name: `${name} camera`, endpointIds: [id], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    return { id, camera };
  }

  /** Posts an event of `camera` to ingest; returns it. */
  async function postOf(camera: string) {
    const event = freshEvent();
    event.camera.id = camera;
    expect((await stack.postEvent(JSON.stringify(event))).status).toBe(202);
    return event;
  }

  it('asks for a token, refuses a wrong one at its field, and signs in with a session cookie script cannot read', async () => {
    const page = await site.ownPage();
    const response = await page.goto(`${site.origin}/endpoints`);
    const csp = response!.headers()['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await page.getByLabel('API token').waitFor();
    await expectAccessible(page, 'the sign-in form');

    await page.getByLabel('API token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.locator('.field.invalid').getByRole('alert').textContent()).resolves.toContain('not valid');
    await expectAccessible(page, 'the sign-in form with its error');

    await page.getByLabel('API token').fill(stack.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    expect(await page.evaluate<string>('document.cookie')).not.toContain('es_session');
    const cookie = (await page.context().cookies(`${site.origin}/event-service/graphql`)).find((candidate) => candidate.name === 'es_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie.value).not.toContain(stack.token);
  });

  it('creates a websocket endpoint, and its card copies the id to the clipboard with a visible confirmation', async () => {
    const page = await signedIn();
    await page.getByRole('status').filter({ hasText: 'endpoint' }).waitFor();
    await expectAccessible(page, 'the endpoints list');
    await page.getByRole('button', { name: '+ Create' }).click();
    await page.getByLabel('Websocket').check();
    await expectAccessible(page, 'the new websocket endpoint form');
    await page.getByLabel('Name').fill('live wall');
    await page.getByRole('button', { name: 'Create websocket endpoint' }).click();
    await page.getByRole('heading', { name: 'live wall' }).waitFor();
    const websocketId = cardIdOf(page);

    const idButton = page.getByRole('button', { name: `Copy endpoint id ${websocketId}` });
    expect(await idButton.getAttribute('title')).toBe(websocketId);
    await idButton.hover();
    await expect(page.locator('.id-full').isVisible()).resolves.toBe(true);
    await idButton.click();
    await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    await expectAccessible(page, 'the websocket endpoint card');
    expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(websocketId);
    expect(await page.getByTestId('websocket-url').textContent()).toBe(`${site.origin.replace('http', 'ws')}/event-service/ws?endpoint_id=${websocketId}`);
  });

  it('shows an API error next to the field it concerns, then creates the webhook endpoint', async () => {
    const receiver = await receiverAnswering(() => ({ status: 204 }));
    const page = await signedIn();
    await page.getByRole('button', { name: '+ Create' }).click();
    await page.getByLabel('Webhook').check();
    await page.getByLabel('Name').fill('receiver');
    await page.getByLabel('URL').fill('ftp://127.0.0.1/hook');
    await page.getByRole('button', { name: 'Create webhook endpoint' }).click();
    const urlField = page.locator('.field.invalid', { has: page.getByLabel('URL') });
    expect(await urlField.getByRole('alert').textContent()).toMatch(/url/i);
    expect(await page.getByLabel('URL').getAttribute('aria-invalid')).toBe('true');
    await expectAccessible(page, 'the new webhook endpoint form with an error at its field');

    await page.getByLabel('URL').fill(receiver.url);
    await page.getByRole('button', { name: 'Create webhook endpoint' }).click();
    await page.getByRole('heading', { name: 'receiver' }).waitFor();
    await page.getByRole('heading', { name: 'Delivery attempts' }).waitFor();
    await expectAccessible(page, 'the webhook endpoint card');
    const created = await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { name type meta { url } } } }', { id: cardIdOf(page) });
    expect(created.data.endpoints.collectionItems).toEqual([{ name: 'receiver', type: 'WEB_HOOK', meta: { url: receiver.url } }]);
  });

  it('edits a webhook: a rate limit set, then removed, and nothing else changed', async () => {
    const receiver = await receiverAnswering(() => ({ status: 204 }));
    const webhookId = await stack.createWebhookEndpoint(receiver.url, 'rated receiver');
    const page = await signedIn(`/endpoints/${webhookId}`);
    const rate = page.locator('dt:text-is("Rate limit") + dd');
    await page.getByRole('button', { name: 'Edit' }).click();
    await expectAccessible(page, 'the webhook endpoint edit form');
    await page.getByLabel('Rate limit (deliveries a second)').fill('5');
    await page.getByRole('button', { name: 'Save' }).click();
    await rate.filter({ hasText: '5 a second' }).waitFor();
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Rate limit (deliveries a second)').fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await rate.filter({ hasText: 'none' }).waitFor();
    const saved = await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { name meta { url method maxRatePerSecond } } } }', { id: webhookId });
    expect(saved.data.endpoints.collectionItems).toEqual([{ name: 'rated receiver', meta: { url: receiver.url, method: 'POST', maxRatePerSecond: null } }]);
  });

  it('creates an event filter that targets two endpoints, picked from the list', async () => {
    const receiver = await receiverAnswering(() => ({ status: 204 }));
    const [wall, hook] = [await stack.createWebsocketEndpoint('picked wall'), await stack.createWebhookEndpoint(receiver.url, 'picked receiver')];
    const page = await signedIn('/event-filters');
    await page.getByRole('status').filter({ hasText: 'filter' }).waitFor();
    await expectAccessible(page, 'the event filters list');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await expectAccessible(page, 'the event filters list’s Add filter');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByRole('button', { name: '+ Create' }).click();
    await page.getByLabel('Name').fill('identifications');
    await page.getByLabel(/picked wall/).check();
    await page.getByLabel(/picked receiver/).check();
    await page.getByLabel('identification', { exact: true }).check();
    await expectAccessible(page, 'the new event filter form');
    await page.getByRole('button', { name: 'Create event filter' }).click();
    await page.getByRole('heading', { name: 'identifications' }).waitFor();
    await page.getByRole('link', { name: 'picked wall' }).waitFor();
    await page.getByRole('link', { name: 'picked receiver' }).waitFor();
    await expectAccessible(page, 'the event filter card');
    await page.getByRole('button', { name: 'Edit' }).click();
    await expectAccessible(page, 'the event filter edit form');
    await page.getByRole('button', { name: 'Cancel' }).click();
    const saved = await stack.graphql('query($id: ID!) { eventsFilters(filters: { id: { exact: $id } }) { collectionItems { endpoints { id } in { eventTypes } } } }', { id: cardIdOf(page) });
    const [filter] = saved.data.eventsFilters.collectionItems;
    expect(filter.endpoints.map((endpoint: { id: string }) => endpoint.id).sort()).toEqual([wall, hook].sort());
    expect(filter.in.eventTypes).toEqual(['identification']);
  });

  it('shows a posted event in the websocket card’s live view, received through the websocket', async () => {
    const websocketId = await stack.createWebsocketEndpoint('watched wall');
    const camera = randomUUID();
    await stack.createEventFilter({ name: 'watched camera', endpointIds: [websocketId], in: { cameraIds: [camera] } });
    await stack.waitForConfig();
    const page = await signedIn(`/endpoints/${websocketId}`);
    await page.getByText('Connected: events routed').waitFor();
    const event = await postOf(camera);
    await page.getByRole('list', { name: 'Events received' }).getByText(event.event.id).waitFor();
    await expectAccessible(page, 'the websocket card’s live view with an event');
  });

  it('lists the delivery attempts on the webhook card, and a resend of the failed delivery succeeds', async () => {
    let failing = true;
    const receiver = await receiverAnswering(() => ({ status: failing ? 500 : 204 }));
    const webhook = await webhookOf(receiver, 'failing receiver');
    const event = await postOf(webhook.camera);
    const page = await signedIn(`/endpoints/${webhook.id}`);
    const rows = page.locator(`tr[data-event-id="${event.event.id}"]`);
    // Refused twice (500), the second time for good.
    await rows.filter({ hasText: 'failed' }).waitFor({ timeout: 30_000 });
    expect(await rows.filter({ hasText: 'failed' }).textContent()).toContain('500');
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    await page.getByRole('button', { name: 'Hide secret' }).waitFor();
    await expectAccessible(page, 'the webhook card with a failed delivery and its secret shown');

    failing = false;
    await page.getByRole('button', { name: `Resend event ${event.event.id}` }).first().click();
    await rows.filter({ hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    expect(receiver.requests.filter((request) => request.body.includes(event.event.id)).map((request) => request.status)).toEqual([500, 500, 204]);
  });

  it('charts a webhook’s attempts of the last 24 hours by outcome on its card, under the CSP, with the numbers for screen readers', async () => {
    // The first three requests are answered 204, every later one 500: with one retry (WEBHOOK_RETRY_SCHEDULE), each of those is RETRYING, then FAILED.
    const receiver = await receiverAnswering((index) => ({ status: index < 3 ? 204 : 500 }));
    const webhook = await webhookOf(receiver, 'charted receiver');
    const page = await signedIn(`/endpoints/${webhook.id}`);
    const totals = page.getByTestId('outcome-totals');
    await totals.filter({ hasText: 'Attempts: 0 succeeded, 0 retrying, 0 failed.' }).waitFor();
    for (let index = 0; index < 3; index += 1) await postOf(webhook.camera);
    await totals.filter({ hasText: 'Attempts: 3 succeeded, 0 retrying, 0 failed.' }).waitFor({ timeout: 30_000 });
    for (let index = 0; index < 2; index += 1) await postOf(webhook.camera);
    await totals.filter({ hasText: 'Attempts: 3 succeeded, 2 retrying, 2 failed.' }).waitFor({ timeout: 30_000 });

    // The chart's text alternative: a table of the 24 hours, whose counts add up to the totals (an hour may have turned meanwhile).
    const table = page.getByRole('table', { name: 'Delivery attempts by hour, last 24 hours' });
    expect(await table.locator('tbody tr').count()).toBe(24);
    const cells = (await table.locator('tbody td').allTextContents()).map(Number);
    const column = (index: number) => cells.filter((_, cell) => cell % 3 === index).reduce((sum, count) => sum + count, 0);
    expect({ succeeded: column(0), retrying: column(1), failed: column(2) }).toEqual({ succeeded: 3, retrying: 2, failed: 2 });
    expect(await page.locator('.chart canvas').count()).toBe(1);
    expect(await page.locator('.chart').getAttribute('aria-hidden')).toBe('true');

    expect(site.violationsOf(page)).toEqual([]);
    await expectAccessible(page, 'the webhook card with its delivery outcomes chart');
  });

  it('answers a webhook’s delivery outcomes by the hour through the API: 1 to 168 hours, none for a websocket, only to a token that reaches the endpoint', async () => {
    const receiver = await receiverAnswering(() => ({ status: 204 }));
    const [mine, theirs] = [await stack.createWebhookEndpoint(receiver.url, 'counted receiver'), await stack.createWebhookEndpoint(receiver.url, 'uncounted receiver')];
    const websocket = await stack.createWebsocketEndpoint('uncharted wall');
    const outcomes = (id: string, hours: number | null, token = stack.token) =>
      stack.graphql('query($id: ID!, $hours: Int) { endpoints(filters: { id: { exact: $id } }) { collectionItems { id deliveryOutcomes(hours: $hours) { from succeeded retrying failed } } } }', { id, hours }, token);

    const day = (await stack.graphql('query($id: ID!) { endpoints(filters: { id: { exact: $id } }) { collectionItems { deliveryOutcomes { from succeeded } } } }', { id: mine })).data.endpoints.collectionItems[0].deliveryOutcomes;
    expect(day).toHaveLength(24);
    const starts = day.map((bucket: { from: string }) => Date.parse(bucket.from));
    expect(starts.every((start: number, index: number) => start % 3_600_000 === 0 && (index === 0 || start - starts[index - 1] === 3_600_000))).toBe(true);
    expect(Date.now() - starts[23]).toBeLessThan(3_600_000 + 60_000);
    expect((await outcomes(mine, 1)).data.endpoints.collectionItems[0].deliveryOutcomes).toHaveLength(1);
    expect((await outcomes(mine, 168)).data.endpoints.collectionItems[0].deliveryOutcomes).toHaveLength(168);
    for (const hours of [0, 169]) {
      const refused = await outcomes(mine, hours);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'hours' });
    }
    expect((await outcomes(websocket, 24)).data.endpoints.collectionItems[0].deliveryOutcomes).toEqual([]);

    const scoped = (await stack.graphql('mutation($ids: [ID!]) { createApiToken(name: "outcomes viewer", scope: READ_ONLY, endpointIds: $ids) { token } }', { ids: [mine] })).data.createApiToken.token;
    expect((await outcomes(mine, 2, scoped)).data.endpoints.collectionItems.map((endpoint: { id: string }) => endpoint.id)).toEqual([mine]);
    expect((await outcomes(theirs, 2, scoped)).data.endpoints.collectionItems).toEqual([]);
  });

  it('finds a lost event on its page by camera, and shows the event', async () => {
    const { event, profile } = await postLostEvent(stack);
    const page = await signedIn('/lost-events');
    await page.getByLabel('Camera id').waitFor();
    await expectAccessible(page, 'the lost events page');
    await page.getByLabel('Camera id').fill(event.camera.id);
    await page.getByLabel('Type').selectOption('identification');
    const show = page.getByRole('button', { name: `Show event ${event.event.id}` });
    await applyUntilListed(page, show);
    expect(await page.locator('.lost').textContent()).toContain(profile);
    await show.click();
    await expectAccessible(page, 'the lost events page with an event shown');
    expect(JSON.parse((await page.locator('.event-json').textContent())!)).toMatchObject({ event: { id: event.event.id }, camera: { id: event.camera.id } });
  });

  it('replays a webhook’s deliveries from the Replays page: a dry run first, its count by endpoint, then the run sends them again', async () => {
    const receiver = await receiverAnswering(() => ({ status: 204 }));
    const webhook = await webhookOf(receiver, 'replayed receiver');
    const events = [await postOf(webhook.camera), await postOf(webhook.camera)];
    await waitFor(() => receiver.requests.length === 2, { what: 'the first deliveries' });
    const page = await signedIn();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Replays' }).click();
    await page.getByRole('status').filter({ hasText: '0 replays' }).waitFor();
    await expectAccessible(page, 'the replays page with no job');

    // No endpoint picked: the API's error shows at the Endpoint field.
    await page.getByRole('button', { name: 'Dry run first' }).click();
    const endpointField = page.locator('.field.invalid', { has: page.getByLabel(/^Endpoint/) });
    expect(await endpointField.getByRole('alert').textContent()).toContain('names the endpoint');
    await expectAccessible(page, 'the new replay form with an error at its field');

    await page.getByLabel(/^Endpoint/).selectOption({ label: 'replayed receiver (webhook)' });
    await page.getByRole('button', { name: 'Dry run first' }).click();
    await page.getByTestId('dry-run-status').filter({ hasText: '2 deliveries would be sent' }).waitFor({ timeout: 30_000 });
    const reach = page.getByRole('table', { name: 'Deliveries by endpoint' });
    expect(await reach.locator('tbody tr').allTextContents()).toEqual(['replayed receiver2']);
    await expectAccessible(page, 'a dry run’s result');
    expect(receiver.requests).toHaveLength(2);

    await page.getByRole('button', { name: 'Run it' }).click();
    await page.getByRole('status').filter({ hasText: /Replay .* started/ }).waitFor();
    const run = page.locator('table.jobs tbody tr', { hasText: 'Re-deliver to replayed receiver' }).filter({ hasNotText: 'dry run' });
    await run.locator('.badge', { hasText: 'succeeded' }).waitFor({ timeout: 30_000 });
    const progress = run.getByRole('progressbar', { name: /^Progress of replay/ });
    expect([await progress.getAttribute('value'), await progress.getAttribute('max')]).toEqual(['2', '2']);
    expect(await run.locator('td[data-label="Sent"]').textContent()).toBe('2');
    await expectAccessible(page, 'the replays list with a dry run and a run');
    await waitFor(() => receiver.requests.length === 4, { what: 'the replayed deliveries' });
    const ids = events.map((event) => event.event.id).sort();
    expect(receiver.requests.slice(2).map((request) => request.headers['webhook-id']).sort()).toEqual(ids);
    const jobs = await stack.graphql('query($id: ID!) { replayJobs(filters: { endpointId: { exact: $id } }) { collectionItems { dryRun state reached { endpointId events } } } }', { id: webhook.id });
    expect(jobs.data.replayJobs.collectionItems).toEqual([
      { dryRun: false, state: 'SUCCEEDED', reached: [{ endpointId: webhook.id, events: 2 }] },
      { dryRun: true, state: 'SUCCEEDED', reached: [{ endpointId: webhook.id, events: 2 }] },
    ]);
    expect(site.violationsOf(page)).toEqual([]);
  });

  it('cancels a slow replay from its row, after a confirmation', async () => {
    const receiver = await receiverAnswering(() => ({ status: 204 }));
    const webhook = await webhookOf(receiver, 'slowly replayed receiver');
    // Twenty deliveries at one a second: the run lasts long enough to be cancelled on a loaded machine.
    const count = 20;
    for (let index = 0; index < count; index += 1) await postOf(webhook.camera);
    await waitFor(() => receiver.requests.length === count, { what: 'the first deliveries' });
    const page = await signedIn('/replays');
    await page.getByLabel(/^Endpoint/).selectOption({ label: 'slowly replayed receiver (webhook)' });
    await page.getByLabel('Rate (deliveries a second)').fill('1');
    await page.getByRole('button', { name: 'Dry run first' }).click();
    await page.getByRole('button', { name: 'Run it' }).click();
    const run = page.locator('table.jobs tbody tr', { hasText: 'Re-deliver to slowly replayed receiver' }).filter({ hasNotText: 'dry run' });
    await run.getByText('at most 1/s').waitFor();
    await run.getByRole('button', { name: /^Cancel replay/ }).click();
    await expectAccessible(page, 'a replay’s cancellation asked to be confirmed');
    await run.getByRole('button', { name: 'Stop replay' }).click();
    await run.locator('.badge', { hasText: 'cancelled' }).waitFor({ timeout: 30_000 });
    expect(await run.getByRole('button', { name: /^Cancel replay/ }).count()).toBe(0);
    // Stopped after the batch it was sending: not every delivery went again.
    expect(receiver.requests.length).toBeLessThan(2 * count);
    expect(site.violationsOf(page)).toEqual([]);
  });

  it('finds a dead letter by app and reason, shows its message, discards it, and resubmits the filtered set', async () => {
    const invalid = { type: 'identification', event: { id: randomUUID() } };
    await stack.publishAgentEvent(randomUUID(), JSON.stringify(invalid));
    const page = await signedIn();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dead letters' }).click();
    await page.getByRole('status').filter({ hasText: /^\d+ dead letters?/ }).waitFor();
    await expectAccessible(page, 'the dead letters page');
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByLabel('App', { exact: true }).fill('ingest');
    await page.getByLabel('Reason', { exact: true }).fill('INVALID_EVENT');
    await page.getByLabel('Dead-lettered from').fill('2030-01-02T10:00');
    await page.getByLabel('Dead-lettered to').fill('2030-01-01T10:00');
    await page.getByRole('button', { name: 'Apply' }).click();
    const toField = page.locator('.field.invalid', { has: page.getByLabel('Dead-lettered to') });
    expect(await toField.getByRole('alert').textContent()).toBe('must not be before From');
    await expectAccessible(page, 'the dead letters’ filter form with an error at its field');
    await page.getByLabel('Dead-lettered from').fill('');
    await page.getByLabel('Dead-lettered to').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('button', { name: 'Remove reason: INVALID_EVENT' }).waitFor();

    // Projected by the webhook-dispatcher, then listed when the page refreshes.
    const item = page.locator('li.dead-letter');
    await item.first().waitFor({ timeout: 30_000 });
    expect(await item.count()).toBe(1);
    await expectAccessible(page, 'the dead letters list with filter chips');
    await item.getByRole('button', { name: /^Show message of dead letter/ }).click();
    const message = item.getByRole('region', { name: /^Message of dead letter/ });
    const text = (await message.textContent())!;
    expect(JSON.parse(text)).toEqual(invalid);
    expect(text).toContain('\n  "type": "identification"');
    expect(await item.locator('dt:text-is("Source subject") + dd').textContent()).toMatch(/agents\..+\.events$/);
    await expectAccessible(page, 'a dead letter’s message shown');

    await item.getByRole('button', { name: /^Discard dead letter/ }).click();
    await expectAccessible(page, 'a dead letter’s discard asked to be confirmed');
    await item.getByRole('button', { name: 'Discard it' }).click();
    await page.getByRole('status').filter({ hasText: 'Discarded 1 dead letter.' }).waitFor();
    await item.locator('.badge', { hasText: 'discarded' }).waitFor();
    const discarded = await stack.graphql('query($filters: DeadLetterFilters) { deadLetters(filters: $filters) { collectionItems { state message } } }', { filters: { app: { exact: 'ingest' }, reason: { exact: 'INVALID_EVENT' } } });
    expect(discarded.data.deadLetters.collectionItems).toEqual([{ state: 'DISCARDED', message: JSON.stringify(invalid) }]);

    // A delivery for an endpoint that does not exist: resubmitted, the dispatcher dead-letters it again.
    const nats = await stack.natsClient();
    const undeliverable = freshEvent();
    const unknownEndpoint = randomUUID();
    const delivery = natsHeaders();
    delivery.set(Headers.eventId, undeliverable.event.id);
    delivery.set(Headers.endpointId, unknownEndpoint);
    await nats.jetstream.publish(nats.topology.webhookDeliveries(unknownEndpoint), new TextEncoder().encode(JSON.stringify(undeliverable)), { headers: delivery });
    await page.getByRole('button', { name: 'Add filter' }).click();
    await page.getByLabel('App', { exact: true }).fill('webhook-dispatcher');
    await page.getByLabel('Reason', { exact: true }).fill('UNKNOWN_ENDPOINT');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('button', { name: 'Remove app: webhook-dispatcher' }).waitFor();
    await page.getByRole('button', { name: 'Resubmit all 1 matching' }).click({ timeout: 30_000 });
    await page.getByRole('group', { name: 'Resubmit the 1 open dead letter these filters match, where they came from?' }).waitFor();
    await expectAccessible(page, 'a resubmission of the filtered set asked to be confirmed');
    await page.getByRole('button', { name: 'Resubmit them' }).click();
    await page.getByRole('status').filter({ hasText: 'Resubmitted 1 dead letter.' }).waitFor();
    await page.getByRole('status').filter({ hasText: '2 dead letters, 1 open' }).waitFor({ timeout: 30_000 });
    expect(await item.locator('.badge', { hasText: 'resubmitted' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Resubmit all 1 matching' }).count()).toBe(1);
    expect(site.violationsOf(page)).toEqual([]);
  });

  it('deletes an event filter and a websocket endpoint after a confirmation', async () => {
    const websocketId = await stack.createWebsocketEndpoint('doomed wall');
    const filterId = await stack.createEventFilter({ name: 'doomed filter', endpointIds: [websocketId] });
    const page = await signedIn(`/event-filters/${filterId}`);
    await page.getByRole('heading', { name: 'doomed filter' }).waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await expectAccessible(page, 'a deletion asked to be confirmed');
    await page.getByRole('button', { name: 'Delete event filter' }).click();
    await page.getByRole('heading', { name: 'Event filters' }).waitFor();

    await page.goto(`${site.origin}/endpoints/${websocketId}`);
    await page.getByRole('heading', { name: 'doomed wall' }).waitFor();
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('heading', { name: 'Endpoints' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'endpoint' }).waitFor();
    expect(await page.getByRole('link', { name: 'doomed wall' }).count()).toBe(0);
    const left = await stack.graphql('query($endpoint: ID!, $filter: ID!) { endpoints(filters: { id: { exact: $endpoint } }) { totalCount } eventsFilters(filters: { id: { exact: $filter } }) { totalCount } }', {
      endpoint: websocketId,
      filter: filterId,
    });
    expect(left.data).toEqual({ endpoints: { totalCount: 0 }, eventsFilters: { totalCount: 0 } });
  });

  it('creates an agent on the Agents page, shows its token once, counts the events posted with it, rotates and revokes it', async () => {
    const page = await signedIn('/agents');
    await page.getByRole('button', { name: 'New agent' }).click();
    await expectAccessible(page, 'the new agent form');
    const agentId = await page.getByLabel('Agent id').inputValue();
    await page.getByLabel('Name', { exact: true }).fill('loading dock');
    await page.getByRole('button', { name: 'Create agent' }).click();
    const token = (await page.getByTestId('issued-token').textContent())!;
    // NATS runs open here: the HTTP token alone is issued.
    await page.getByText('None: NATS runs without operator mode here').waitFor();
    await expectAccessible(page, 'the credentials just issued');
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('issued-token').count()).toBe(0);

    expect((await stack.postEvent(JSON.stringify(freshEvent({ agentId })), token)).status).toBe(202);
    // Read again now rather than at the page's next refresh.
    await page.reload();
    const row = page.locator(`tr[data-agent-id="${agentId}"]`);
    await row.locator('td[data-label="Events, last minute"]', { hasText: '1' }).waitFor();
    expect(await row.locator('td[data-label="State"]').textContent()).toBe('active');

    await row.getByRole('button', { name: 'Rotate credentials of loading dock' }).click();
    await page.getByRole('button', { name: 'Issue new credentials' }).click();
    const rotated = (await page.getByTestId('issued-token').textContent())!;
    expect(rotated).not.toBe(token);
    expect((await stack.postEvent(JSON.stringify(freshEvent({ agentId })), token)).status).toBe(401);
    await page.getByRole('button', { name: 'Done' }).click();

    await row.getByRole('button', { name: 'Revoke loading dock' }).click();
    await page.getByRole('button', { name: 'Revoke agent' }).click();
    await row.locator('td[data-label="State"]', { hasText: 'revoked' }).waitFor();
    expect((await stack.postEvent(JSON.stringify(freshEvent({ agentId })), rotated)).status).toBe(401);
    await expectAccessible(page, 'the agents page with a revoked agent');
  });

  it('has no horizontal scroll at a phone’s width, on any page or card', async () => {
    const receiver = await receiverAnswering(() => ({ status: 204 }));
    const webhookId = await stack.createWebhookEndpoint(receiver.url, 'phone receiver');
    const websocket = await stack.createWebsocketEndpoint('phone wall');
    const filter = await stack.createEventFilter({ name: 'phone filter', endpointIds: [websocket, webhookId], in: { cameraIds: [randomUUID(), randomUUID()] } });
    const page = await signedIn();
    await page.setViewportSize(PHONE);
    for (const path of ['/endpoints', `/endpoints/${webhookId}`, `/endpoints/${websocket}`, '/event-filters', `/event-filters/${filter}`, '/lost-events', '/replays', '/dead-letters', '/agents']) {
      await page.goto(`${site.origin}${path}`);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await page.locator('h1').first().waitFor();
      if (path === `/endpoints/${webhookId}`) await page.locator('.chart canvas').waitFor();
      expect({ path, overflow: await horizontalOverflow(page) }).toEqual({ path, overflow: 0 });
      await expectAccessible(page, `${path} at a phone’s width`);
    }
    await page.goto(`${site.origin}/event-filters`);
    await page.getByRole('button', { name: '+ Create' }).click();
    expect({ path: 'the event filter form', overflow: await horizontalOverflow(page) }).toEqual({ path: 'the event filter form', overflow: 0 });
    await page.setViewportSize(DESKTOP);
  });

  it('shows a token scoped to one endpoint that endpoint alone, and no page about the whole installation', async () => {
    const mine = await stack.createWebsocketEndpoint('scoped reader socket');
    await stack.createWebsocketEndpoint('someone else socket');
    const created = await stack.graphql('mutation($ids: [ID!]) { createApiToken(name: "scoped viewer", scope: READ_ONLY, endpointIds: $ids) { token } }', { ids: [mine] });
    const page = await signedIn('/endpoints', created.data.createApiToken.token);

    await namesAre(page, ['scoped reader socket']);
    await page.getByText('Read-only · 1 endpoint').waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual(['Endpoints', 'Event filters']);
    await expectAccessible(page, 'the endpoints list of a scoped token');
    for (const path of ['/lost-events', '/replays', '/dead-letters', '/agents']) {
      await page.goto(`${site.origin}${path}`);
      await page.getByText('this page is about the whole installation').waitFor();
    }
    await expectAccessible(page, 'a page about the whole installation, to a scoped token');
  });

  it('shows a read-only token what the API lets it see, with no way to change anything', async () => {
    const receiver = await receiverAnswering(() => ({ status: 500 }));
    const webhook = await webhookOf(receiver, 'watched receiver');
    const event = await postOf(webhook.camera);
    const created = await stack.graphql('mutation { createApiToken(name: "viewer", scope: READ_ONLY) { token apiToken { id } } }');
    const page = await site.ownPage();
    await page.goto(`${site.origin}/endpoints`);
    await page.getByLabel('API token').waitFor();
    expect(await page.evaluate<number>(GRAPHQL_STATUS)).toBe(401);
    await horizontalOverflow(page).then((overflow) => expect({ page: 'sign-in', overflow }).toEqual({ page: 'sign-in', overflow: 0 }));
    await site.signIn(page, created.data.createApiToken.token, `/endpoints/${webhook.id}`);
    await page.getByRole('heading', { name: 'watched receiver' }).waitFor();
    await page.locator(`tr[data-event-id="${event.event.id}"]`).filter({ hasText: 'failed' }).first().waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: /Edit|Delete|Reveal secret|Resend|Send test event/ }).count()).toBe(0);
    await expectAccessible(page, 'the webhook card to a read-only token');
    await page.goto(`${site.origin}/endpoints`);
    await page.getByRole('status').filter({ hasText: 'endpoint' }).waitFor();
    expect(await page.getByRole('button', { name: '+ Create' }).count()).toBe(0);
    await page.goto(`${site.origin}/replays`);
    await page.getByRole('status').filter({ hasText: /^\d+ replays?$/ }).waitFor();
    expect(await page.getByRole('button', { name: /Dry run first|Cancel replay/ }).count()).toBe(0);
    await page.goto(`${site.origin}/dead-letters`);
    await page.locator('li.dead-letter').first().waitFor();
    expect(await page.getByRole('button', { name: /Resubmit|Discard/ }).count()).toBe(0);
    await expectAccessible(page, 'the dead letters to a read-only token');

    // Revoking the token ends its sessions: the next page asks for a token again.
    await stack.graphql('mutation($id: ID!) { revokeApiToken(id: $id) { id } }', { id: created.data.createApiToken.apiToken.id });
    await page.reload();
    await page.getByLabel('API token').waitFor();
  });

  it('signs in only from its own page: a form post or another site’s request is refused', async () => {
    const signIn = (headers: Record<string, string>, body: string) => fetch(`${site.origin}/event-service/session`, { method: 'POST', headers, body });
    const fromForm = await signIn({ 'content-type': 'application/x-www-form-urlencoded' }, `token=${stack.token}`);
    expect(fromForm.status).toBe(415);
    expect(fromForm.headers.get('set-cookie')).toBeNull();
    const crossSite = await signIn({ 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, JSON.stringify({ token: stack.token }));
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
    expect((await signIn({ 'content-type': 'application/json' }, JSON.stringify({ token: stack.token }))).status).toBe(200);
  });

  it('is typed against the schema the running api serves: the same types, fields and values', async () => {
    const shape = '{ __schema { types { name fields { name } inputFields { name } enumValues { name } } } }';
    const names = (list: Array<{ name: string }> | null): string[] => (list ?? []).map(({ name }) => name).sort();
    type Shape = { name: string; fields: Array<{ name: string }> | null; inputFields: Array<{ name: string }> | null; enumValues: Array<{ name: string }> | null };
    const outline = (types: Shape[]) =>
      types
        .filter(({ name }) => !name.startsWith('__'))
        .map((type) => ({ name: type.name, members: [...names(type.fields), ...names(type.inputFields), ...names(type.enumValues)] }))
        .sort((one, other) => one.name.localeCompare(other.name));
    const served = await stack.graphql<{ __schema: { types: Shape[] } }>(shape);
    const committed = await graphql({ schema: buildSchema(readFileSync(join(projectRoot(), 'apps/api/schema.graphql'), 'utf8')), source: shape });
    expect(outline(served.data.__schema.types)).toEqual(outline((committed.data as { __schema: { types: Shape[] } }).__schema.types));
  });

  it('breaks no Content-Security-Policy rule on any page the tests above opened', () => {
    expect(site.cspViolations).toEqual([]);
  });
});
