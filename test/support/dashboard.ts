import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createEdgeProxy } from '../../scripts/edge-proxy.js';
import { freshEvent, seedIdentification, type EventJson } from './fixtures.js';
import { freePort } from './ports.js';
import type { TestStack } from './stack.js';

/** Debian's Chromium, headless, kept off the network it cannot reach here (never a downloaded browser). */
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
};

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/**
 * The dashboard as a browser reaches it: one origin in front of a test
 * stack's api, gateway and ingest (as `npm start` and the Ingress serve
 * them), and a headless Chromium whose pages may use the clipboard.
 */
export class DashboardSite {
  private constructor(
    readonly origin: string,
    private readonly edge: Server,
    readonly browser: Browser,
    readonly context: BrowserContext,
  ) {}

  static async start(stack: TestStack): Promise<DashboardSite> {
    // The apps the stack runs (an api-only stack has no gateway or ingest behind the edge).
    const routes = [
      { prefix: '/event-service/ws', app: 'websocket-gateway' as const },
      { prefix: '/event-service/events', app: 'ingest' as const },
      { prefix: '/', app: 'api' as const },
    ].flatMap(({ prefix, app }) => {
      const ports = stack.ports.get(app);
      return ports ? [{ prefix, port: ports.main }] : [];
    });
    const edge = createEdgeProxy(routes);
    const port = await freePort();
    await new Promise<void>((resolve) => edge.listen(port, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${port}`;
    try {
      const browser = await chromium.launch(CHROMIUM);
      const context = await browser.newContext({ viewport: DESKTOP });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      return new DashboardSite(origin, edge, browser, context);
    } catch (error) {
      edge.close();
      throw error;
    }
  }

  async newPage(): Promise<Page> {
    return this.context.newPage();
  }

  /**
   * A page of a browser context of its own (its own cookies, so its own
   * session), signed in with `token` at `path`: what one test does there
   * never reaches another's page.
   */
  async signedInPage(token: string, path = '/endpoints'): Promise<Page> {
    const page = await this.ownPage();
    await this.signIn(page, token, path);
    return page;
  }

  /** A page of a browser context of its own, not signed in. */
  async ownPage(): Promise<Page> {
    const context = await this.browser.newContext({ viewport: DESKTOP });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.origin });
    return context.newPage();
  }

  /** Signs a page in through the sign-in form. */
  async signIn(page: Page, token: string, path = '/endpoints'): Promise<void> {
    await page.goto(`${this.origin}${path}`);
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  async close(): Promise<void> {
    await this.browser.close();
    this.edge.closeAllConnections();
    await new Promise((resolve) => this.edge.close(resolve));
  }
}

/** The page is no wider than its viewport: nothing scrolls sideways. */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

/**
 * Posts an identification whose only candidate's profile was deleted just
 * before: profile-sync diverts it to the lost events. Returns the event and the profile.
 */
export async function postLostEvent(stack: TestStack, cameraId = randomUUID()): Promise<{ event: EventJson; profile: string }> {
  const profile = randomUUID();
  await stack.publishProfile({ upserted: { id: profile, profile_groups: [{ id: randomUUID(), color: null }] } });
  await stack.publishProfile({ deleted: { id: profile } });
  const event = freshEvent();
  event.camera.id = cameraId;
  const [candidate] = seedIdentification().candidates;
  event.candidates = [{ ...candidate, profile: { ...candidate.profile, id: profile } }];
  const response = await stack.postEvent(JSON.stringify(event));
  if (response.status !== 202) throw new Error(`ingest answered ${response.status} to the lost event: ${await response.text()}`);
  return { event, profile };
}

/**
 * Applies the Lost events page's filter until `target` shows (profile-sync
 * diverts asynchronously), each time waiting for the API's answer; fails after 30 s.
 */
export async function applyUntilListed(page: Page, target: Locator): Promise<void> {
  for (const deadline = Date.now() + 30_000; !(await target.isVisible()); ) {
    if (Date.now() > deadline) throw new Error('the lost event was never listed');
    const answered = page.waitForResponse((response) => response.url().endsWith('/event-service/graphql'));
    await page.getByRole('button', { name: 'Apply' }).click();
    await answered;
  }
}
