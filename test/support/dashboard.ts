import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createEdgeProxy } from '../../scripts/edge-proxy.js';
import { projectRoot } from '../../scripts/local-stack.js';
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
  /** The Content-Security-Policy violations of every page of the site so far (CSP_WATCH), each page's also apart. */
  readonly cspViolations: string[] = [];
  private readonly violationsByPage = new WeakMap<Page, string[]>();

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

  /** A page of a browser context of its own, not signed in, its Content-Security-Policy violations recorded. */
  async ownPage(): Promise<Page> {
    const context = await this.browser.newContext({ viewport: DESKTOP });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: this.origin });
    await context.addInitScript(CSP_WATCH);
    const page = await context.newPage();
    const violations: string[] = [];
    this.violationsByPage.set(page, violations);
    page.on('console', (message) => {
      if (!/Content.Security.Policy|Refused to/i.test(message.text())) return;
      violations.push(message.text());
      this.cspViolations.push(message.text());
    });
    return page;
  }

  /** The Content-Security-Policy violations reported on a page of ownPage() or signedInPage(). */
  violationsOf(page: Page): string[] {
    return this.violationsByPage.get(page) ?? [];
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

/**
 * Reports every `securitypolicyviolation` event of a page on its console (Chromium
 * also logs its own "Refused to …" line): an init script, which the DevTools
 * protocol runs before the page's own, whatever its CSP.
 */
const CSP_WATCH = `document.addEventListener('securitypolicyviolation', (event) => console.error('Content-Security-Policy violation: ' + event.violatedDirective + ' ' + event.blockedURI));`;

/** The axe-core rule tags of WCAG 2.1 levels A and AA. */
export const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const AXE_SOURCE = readFileSync(join(projectRoot(), 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string; html: string; summary: string }>;
}

/**
 * axe-core's WCAG 2.1 A and AA rules on the page as it is now, each violation
 * as a line (its rule, impact and help) and one per element (its selector,
 * markup and what to fix): empty when the page passes.
 *
 * axe is put in the page by `page.evaluate` of its source, which Chromium runs
 * through the DevTools protocol, outside the page's Content-Security-Policy:
 * an added `<script>` (addScriptTag) would be refused by the dashboard's CSP,
 * and the audit never loosens it (no `bypassCSP`), so it audits the page as served.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate<boolean>(`typeof window.axe === 'object'`))) await page.evaluate(`${AXE_SOURCE};\nundefined`);
  const violations = await page.evaluate<AxeViolation[], string[]>(async (tags) => {
    interface AxeResult {
      violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; html: string; failureSummary?: string }> }>;
    }
    const { axe } = globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<AxeResult> } };
    const { document } = globalThis as unknown as { document: unknown };
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return result.violations.map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      nodes: nodes.map((node) => ({ target: node.target.map(String).join(' '), html: node.html, summary: node.failureSummary ?? '' })),
    }));
  }, WCAG_21_AA);
  return violations.flatMap(({ id, impact, help, nodes }) => [`${id} (${impact ?? 'no impact given'}): ${help}`, ...nodes.map((node) => `  ${node.target}: ${node.html} — ${node.summary.replace(/\s+/g, ' ')}`)]);
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
