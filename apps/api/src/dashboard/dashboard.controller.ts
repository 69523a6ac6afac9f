import { readFileSync } from 'node:fs';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';

/** Where `npm run build` bundles the dashboard: `dist/dashboard`, beside `dist/apps`. */
const BUNDLE = new URL('../../../../dashboard/', import.meta.url);

/**
 * No script or style but the bundle's own files: no inline script, no
 * `eval`, no third party; the page talks only to its own origin (GraphQL,
 * and the websocket gateway behind the same origin for the live view).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const ASSET_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', map: 'application/json' };

/** The built bundle: the page and its hashed assets, read once at start. */
function readBundle(): { page: string | null; assets: Map<string, Buffer> } {
  try {
    const manifest = JSON.parse(readFileSync(new URL('manifest.json', BUNDLE), 'utf8')) as { assets: string[] };
    const assets = new Map(manifest.assets.map((name) => [name, readFileSync(new URL(name, BUNDLE))]));
    return { page: readFileSync(new URL('index.html', BUNDLE), 'utf8'), assets };
  } catch {
    return { page: null, assets: new Map() };
  }
}

/**
 * The web dashboard: one page (each of its paths serves it, the page routes
 * itself) and its assets, named by content hash so they are cached for good.
 * Everything it shows comes from the GraphQL API integrators use.
 */
@Controller()
export class DashboardController {
  private readonly bundle = readBundle();

  @Get(['/', 'sign-in', 'endpoints', 'endpoints/:id', 'event-filters', 'event-filters/:id', 'lost-events', 'replays', 'dead-letters', 'agents'])
  page(@Res() response: Response): void {
    if (this.bundle.page === null) {
      response.status(503).type('text/plain').send('the dashboard is not built: run npm run build\n');
      return;
    }
    response.set({ ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }).send(this.bundle.page);
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() response: Response): void {
    const content = this.bundle.assets.get(name);
    if (!content) throw new NotFoundException({ code: 'NOT_FOUND', message: 'no such dashboard asset' });
    const type = ASSET_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
    response.set({ ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable' }).send(content);
  }
}
