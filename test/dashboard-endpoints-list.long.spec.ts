import pg from 'pg';
import type { Page } from 'playwright-core';
import { describe, expect, it } from '@jest/globals';
import { accessibilityViolations, DashboardSite } from './support/dashboard.js';
import { DATABASE_URL, TestStack } from './support/stack.js';

/** Waits until the page's list shows exactly these names, in this order (a list answers after its filter or page changes). */
const namesAre = (page: Page, expected: string[]) =>
  page.waitForFunction((want: string) => {
    const { document } = globalThis as unknown as { document: { querySelectorAll(selector: string): Iterable<{ textContent: string | null }> } };
    return JSON.stringify([...document.querySelectorAll('table.list tbody tr td:first-child')].map((cell) => cell.textContent)) === want;
  }, JSON.stringify(expected));
/** The page as it is now passes axe-core's WCAG 2.1 A and AA rules; a failure lists each rule, its impact and its elements. */
async function expectAccessible(page: Page, where: string): Promise<void> {
  expect({ where, violations: await accessibilityViolations(page) }).toEqual({ where, violations: [] });
}

/**
 * The endpoints list, whose contents these tests must know whole: each on an
 * api and a browser of its own (the long tier: two more stacks and browsers
 * than the other dashboard tests, in test/dashboard.e2e.spec.ts, share).
 */
describe('the dashboard’s endpoints list in headless Chromium', () => {
  async function withOwnApi(run: (stack: TestStack, site: DashboardSite) => Promise<void>): Promise<void> {
    const stack = await TestStack.start({ apps: ['api'], env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' } });
    const site = await DashboardSite.start(stack).catch(async (error: unknown) => {
      await stack.stop();
      throw error;
    });
    try {
      await run(stack, site);
    } finally {
      await site.close();
      await stack.stop();
    }
  }

  it('filters the endpoints by type and sorts them by creation, as removable chips', async () => {
    await withOwnApi(async (stack, site) => {
      await stack.createWebsocketEndpoint('live wall');
      await stack.createWebhookEndpoint('http://127.0.0.1:9/hook', 'receiver');
      const page = await site.signedInPage(stack.token);
      await namesAre(page, ['receiver', 'live wall']);

      await page.getByRole('button', { name: 'Add filter' }).click();
      await expectAccessible(page, 'the endpoints list’s Add filter');
      await page.getByRole('group', { name: 'By type' }).getByRole('button', { name: 'Webhook' }).click();
      await namesAre(page, ['receiver']);
      await expectAccessible(page, 'the endpoints list with a filter chip');
      await page.getByRole('button', { name: 'Remove type: Webhook' }).click();

      await page.getByRole('button', { name: 'Add sort' }).click();
      await expectAccessible(page, 'the endpoints list’s Add sort');
      await page.getByRole('button', { name: 'Created: oldest first' }).click();
      await page.getByRole('button', { name: 'Remove created: oldest first' }).waitFor();
      await namesAre(page, ['live wall', 'receiver']);
      await expect(page.getByRole('group', { name: 'Filters and sort in force' }).getByRole('button').allTextContents()).resolves.toHaveLength(1);
      await expectAccessible(page, 'the endpoints list with a sort chip');

      // The sort lives in the URL: back from a card, the list is as it was left.
      await page.getByRole('link', { name: 'live wall' }).click();
      await page.getByRole('heading', { name: 'live wall' }).waitFor();
      await page.goBack();
      await page.getByRole('button', { name: 'Remove created: oldest first' }).waitFor();
      await namesAre(page, ['live wall', 'receiver']);
    });
  });

  it('pages a long list of endpoints', async () => {
    await withOwnApi(async (stack, site) => {
      // Written straight to PostgreSQL, which the list reads, a second apart in creation: 22 mutations would only cost time.
      const db = new pg.Client({ connectionString: DATABASE_URL });
      await db.connect();
      try {
        await db.query(
          `INSERT INTO ${stack.schema}.endpoint (id, name, type, creation_date) SELECT gen_random_uuid(), 'bulk ' || i, 'WEB_SOCKET', now() - (22 - i) * interval '1 second' FROM generate_series(0, 21) i`,
        );
      } finally {
        await db.end();
      }
      const page = await site.signedInPage(stack.token);
      const pager = page.getByRole('navigation', { name: 'Endpoints pages' });
      await pager.getByText('1–20 of 22').waitFor();
      await pager.getByRole('button', { name: 'Next' }).click();
      await pager.getByText('21–22 of 22').waitFor();
      await namesAre(page, ['bulk 1', 'bulk 0']);
      await expectAccessible(page, 'the endpoints list’s second page');
    });
  });
});
