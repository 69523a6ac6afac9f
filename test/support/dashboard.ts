import type { Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { createEdgeProxy } from '../../scripts/edge-proxy.js';
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
    const main = (instance: 'api' | 'ingest' | 'websocket-gateway') => stack.ports.get(instance)!.main;
    const edge = createEdgeProxy([
      { prefix: '/event-service/ws', port: main('websocket-gateway') },
      { prefix: '/event-service/events', port: main('ingest') },
      { prefix: '/', port: main('api') },
    ]);
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
