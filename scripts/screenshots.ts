import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { applyUntilListed, DashboardSite, DESKTOP, PHONE, postLostEvent } from '../test/support/dashboard.js';
import { seedIdentification } from '../test/support/fixtures.js';
import { Receiver } from '../test/support/receiver.js';
import { TestStack } from '../test/support/stack.js';
import { projectRoot } from './local-stack.js';

/**
 * `npm run screenshots`: runs the whole service against the local NATS and
 * PostgreSQL (its own streams and schema, removed after), fills it with a
 * few endpoints, filters, deliveries, a lost event, replays and a dead
 * letter, and saves each page
 * and card of the dashboard at a laptop's and a phone's width to docs/screenshots.
 */
const OUT = join(projectRoot(), 'docs', 'screenshots');

async function must<T>(stack: TestStack, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await stack.graphql<T>(query, variables);
  if (result.errors) throw new Error(result.errors[0]!.message);
  return result.data;
}

async function seed(stack: TestStack, receiver: Receiver): Promise<{ websocket: string; webhook: string; filter: string }> {
  const websocket = (await must<{ createWebSocketEndpoint: { id: string } }>(stack, 'mutation { createWebSocketEndpoint(name: "Lobby wall display") { id } }')).createWebSocketEndpoint.id;
  await must(stack, 'mutation { createWebSocketEndpoint(name: "Control room") { id } }');
  const webhook = (
    await must<{ createWebhookEndpoint: { id: string } }>(stack, 'mutation($url: String!) { createWebhookEndpoint(name: "Access control", url: $url, headers: [{ name: "X-Site", value: "north" }]) { id } }', {
      url: receiver.url,
    })
  ).createWebhookEndpoint.id;
  const filter = await stack.createEventFilter({ name: 'Watchlist hits, entrance cameras', endpointIds: [websocket, webhook], in: { eventTypes: ['identification'], cameraIds: [seedIdentification().camera.id] } });
  await stack.createEventFilter({ name: 'Crossings', endpointIds: [websocket], in: { eventTypes: ['crossing'] } });
  await stack.waitForConfig();
  await stack.postFreshEvents(4);
  await postLostEvent(stack, seedIdentification().camera.id);
  return { websocket, webhook, filter };
}

async function shoot(page: Page, name: string, ready: (page: Page) => Promise<unknown>): Promise<void> {
  for (const [width, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
    await page.setViewportSize(viewport);
    await ready(page);
    await page.screenshot({ path: join(OUT, `${name}-${width}.png`), fullPage: true });
  }
  process.stdout.write(`screenshots: ${name}\n`);
}

mkdirSync(OUT, { recursive: true });
let failures = 0;
const receiver = await Receiver.start((index) => ({ status: index % 3 === 2 ? 503 : 204 }));
const stack = await TestStack.start({
  apps: ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'],
  env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
});
const site = await DashboardSite.start(stack);
try {
  const page = await site.newPage();
  /** Opens a page and waits for its heading and, on a list, its count. */
  const open = (path: string, heading: string) => async (on: Page) => {
    await on.goto(`${site.origin}${path}`);
    await on.getByRole('heading', { name: heading, exact: true }).waitFor();
    if (!path.slice(1).includes('/')) await on.locator('p.count').waitFor();
  };
  await shoot(page, 'sign-in', async (on) => {
    await on.goto(`${site.origin}/sign-in`);
    await on.getByLabel('API token').waitFor();
  });
  await site.signIn(page, stack.token);
  const { websocket, webhook, filter } = await seed(stack, receiver);
  await shoot(page, 'endpoints', async (on) => {
    await open('/endpoints', 'Endpoints')(on);
    await on.getByRole('button', { name: 'Add sort' }).click();
    await on.getByRole('button', { name: 'Created: oldest first' }).click();
    await on.getByRole('button', { name: 'Remove created: oldest first' }).waitFor();
  });
  await shoot(page, 'endpoint-websocket', async (on) => {
    await open(`/endpoints/${websocket}`, 'Lobby wall display')(on);
    await on.getByText('Connected: events routed').waitFor();
    await stack.postFreshEvents(3);
    await on.locator('.arrivals li').nth(2).waitFor();
  });
  await shoot(page, 'endpoint-webhook', async (on) => {
    await open(`/endpoints/${webhook}`, 'Access control')(on);
    await on.locator('table.attempts tbody tr').nth(3).waitFor({ timeout: 30_000 });
    // The chart refreshes on its own: wait until it counts what the table shows.
    await on.getByTestId('outcome-totals').filter({ hasNotText: 'Attempts: 0 succeeded' }).waitFor({ timeout: 30_000 });
  });
  await shoot(page, 'event-filters', open('/event-filters', 'Event filters'));
  await shoot(page, 'event-filter', open(`/event-filters/${filter}`, 'Watchlist hits, entrance cameras'));
  await shoot(page, 'lost-events', async (on) => {
    await open('/lost-events', 'Lost events')(on);
    const show = on.getByRole('button', { name: /^Show event/ }).first();
    await applyUntilListed(on, show);
    await show.click();
  });
  // A replay: a dry run, then the job, of the webhook's deliveries so far; and a dead letter, an agent's message that is no JSON.
  const range = { kind: 'REDELIVER', endpointId: webhook, from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date().toISOString() };
  await must(stack, 'mutation($input: StartReplayInput!) { startReplay(input: $input) { id } }', { input: { ...range, dryRun: true } });
  await must(stack, 'mutation($input: StartReplayInput!) { startReplay(input: $input) { id } }', { input: range });
  await stack.publishAgentEvent(seedIdentification().camera.agent_id, '{"type": "identification", "event": ');
  await shoot(page, 'replays', async (on) => {
    await open('/replays', 'Replays')(on);
    // Both ended: the list shows what a finished job looks like.
    await on.locator('tr[data-job-id]', { hasNotText: /queued|running/i }).nth(1).waitFor({ timeout: 30_000 });
  });
  await shoot(page, 'dead-letters', async (on) => {
    await open('/dead-letters', 'Dead letters')(on);
    await on.locator('li[data-dead-letter-id]').first().waitFor({ timeout: 30_000 });
  });
} catch (error) {
  failures += 1;
  process.stderr.write(`screenshots failed: ${(error as Error).stack}\n`);
} finally {
  await site.close();
  await stack.stop();
  await receiver.close();
}
process.exit(failures === 0 ? 0 : 1);
