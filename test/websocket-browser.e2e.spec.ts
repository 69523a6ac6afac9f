import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectRoot } from '../scripts/local-stack.js';
import { CHROMIUM } from './support/dashboard.js';
import { freePort } from './support/ports.js';
import { TestStack } from './support/stack.js';

/** The client library in a real browser page: it receives, rides out a gateway restart, and resumes without loss. */
describe('the websocket client library in headless Chromium', () => {
  let stack: TestStack;
  let server: Server;
  let browser: Browser;
  let page: Page;
  let origin: string;

  beforeAll(async () => {
    stack = await TestStack.start({ appEnv: { 'websocket-gateway': { WS_DRAIN_GRACE: '200ms' } } });
    const library = readFileSync(join(projectRoot(), 'dist', 'libs', 'client', 'src', 'index.js'));
    server = createServer((request, response) => {
      if (request.url === '/client.js') return void response.writeHead(200, { 'content-type': 'text/javascript' }).end(library);
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>integrator</title>');
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${port}`;
    browser = await chromium.launch(CHROMIUM);
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    server?.close();
    await stack?.stop();
  });

  const received = (): Promise<string[]> => page.evaluate(() => (globalThis as unknown as { received: string[] }).received);

  it('receives events, and after the gateway restarts resumes from the last event.id it saw, missing nothing', async () => {
    const endpointId = await stack.createWebsocketEndpoint('browser');
    await stack.waitForConfig();
    await page.goto(origin);
    await page.evaluate(
      async ({ url }: { url: string }) => {
        const library = '/client.js';
        const { EventServiceClient } = await import(library);
        const state = globalThis as unknown as { received: string[]; closes: number[]; client: { connected: boolean } };
        state.received = [];
        state.closes = [];
        state.client = new EventServiceClient({
          url,
          onEvent: (event: { event: { id: string } }) => state.received.push(event.event.id),
          onClose: ({ code }: { code: number }) => state.closes.push(code),
          minDelayMs: 100,
          maxDelayMs: 500,
        });
        (state.client as unknown as { start(): void }).start();
      },
      { url: stack.websocketUrl(endpointId) },
    );
    await page.waitForFunction(() => (globalThis as unknown as { client: { connected: boolean } }).client.connected);

    const before = await stack.postFreshEvents(20);
    await page.waitForFunction((count) => (globalThis as unknown as { received: string[] }).received.length >= count, before.length);

    // The gateway drains (1012) and is gone a while; events keep flowing meanwhile.
    await stack.kill('websocket-gateway', 'SIGTERM');
    const whileAway = await stack.postFreshEvents(30);
    await stack.startApp('websocket-gateway');
    await page.waitForFunction(() => (globalThis as unknown as { client: { connected: boolean } }).client.connected, undefined, { timeout: 30_000 });
    const after = await stack.postFreshEvents(5);

    const all = [...before, ...whileAway, ...after];
    await page.waitForFunction((count) => (globalThis as unknown as { received: string[] }).received.length >= count, all.length, { timeout: 30_000 });
    expect(await received()).toEqual(all);
    expect(await page.evaluate(() => (globalThis as unknown as { closes: number[] }).closes[0])).toBe(1012);
  }, 90_000);
});
