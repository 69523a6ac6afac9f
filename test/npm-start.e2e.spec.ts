import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { APP_NAMES, projectRoot, type AppName } from '../scripts/local-stack.js';
import { dropAppRoles } from '@app/persistence';
import { freePort, isListening } from './support/ports.js';
import { deleteStreamsOf } from './support/stack.js';
import { waitFor } from './support/wait.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const ROOT = projectRoot();
const START_JS = join(ROOT, 'dist', 'scripts', 'start.js');
const BANNER = 'event-service is up on';

const id = randomBytes(4).toString('hex');
const prefix = `t${id}`;
const schema = `t_${id}`;
const token = `test-token-${randomBytes(12).toString('hex')}`;

/** The variables README documents for moving `npm start`'s ports, spelled out as a user reads them. */
const HEALTH_PORT_VARS: Record<AppName, string> = {
  api: 'API_HEALTH_PORT',
  ingest: 'INGEST_HEALTH_PORT',
  'profile-sync': 'PROFILE_SYNC_HEALTH_PORT',
  'filter-router': 'FILTER_ROUTER_HEALTH_PORT',
  'websocket-gateway': 'WEBSOCKET_GATEWAY_HEALTH_PORT',
  'webhook-dispatcher': 'WEBHOOK_DISPATCHER_HEALTH_PORT',
};
const MAIN_PORT_VARS = ['PORT', 'API_PORT', 'INGEST_PORT', 'GATEWAY_PORT'] as const;

interface Ports {
  main: Record<(typeof MAIN_PORT_VARS)[number], number>;
  health: Record<AppName, number>;
}

/** Every process a run started, so that a failed test still leaves none behind. */
const started = new Set<number>();

/** Ten distinct free ports: none of a developer's own `npm start`, none shared between the run's listeners. */
async function freshPorts(): Promise<Ports> {
  const ports = new Set<number>();
  while (ports.size < MAIN_PORT_VARS.length + APP_NAMES.length) ports.add(await freePort());
  const [main, health] = [[...ports].slice(0, MAIN_PORT_VARS.length), [...ports].slice(MAIN_PORT_VARS.length)];
  return {
    main: Object.fromEntries(MAIN_PORT_VARS.map((name, index) => [name, main[index]!])) as Ports['main'],
    health: Object.fromEntries(APP_NAMES.map((app, index) => [app, health[index]!])) as Ports['health'],
  };
}

function startEnv(ports: Ports): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'test',
    NATS_URL,
    NATS_PREFIX: prefix,
    DATABASE_URL,
    DATABASE_SCHEMA: schema,
    API_TOKEN: token,
    STREAM_MAX_AGE: '1h',
    STREAM_MAX_BYTES: '64MiB',
    DEAD_LETTER_MAX_BYTES: '16MiB',
    IMAGE_STORE_MAX_BYTES: '64MiB',
    ...Object.fromEntries(MAIN_PORT_VARS.map((name) => [name, String(ports.main[name])])),
    ...Object.fromEntries(APP_NAMES.map((app) => [HEALTH_PORT_VARS[app], String(ports.health[app])])),
  };
}

/** The README's quick start: the command that runs the service, and the one that shows events arriving (comments left out). */
function quickStartCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
  return block
    .trim()
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim());
}

/** Output lines of a process, as they arrive. */
function linesOf(...streams: Array<Readable | null>): string[] {
  const lines: string[] = [];
  for (const stream of streams) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts);
    });
  }
  return lines;
}

/** The children of a process, with their command lines. */
function childrenOf(pid: number): Array<{ pid: number; args: string }> {
  let table: string;
  try {
    table = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return table
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [, child, args] = /^\s*(\d+)\s+(.*)$/.exec(line)!;
      return { pid: Number(child), args: args! };
    });
}

/** Gone: no such process, or one that has exited and waits to be reaped (a zombie runs nothing). */
function isGone(pid: number): boolean {
  try {
    return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim().startsWith('Z');
  } catch {
    return true;
  }
}

/** The local addresses listening on `port` (Linux: /proc/net/tcp and tcp6, hex little-endian), e.g. `127.0.0.1` or `0.0.0.0`. */
function listenAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local?.endsWith(`:${hexPort}`)) continue;
      const hex = local.slice(0, local.indexOf(':'));
      addresses.push(hex.length === 8 ? (hex.match(/../g) ?? []).reverse().map((byte) => parseInt(byte, 16)).join('.') : `[${hex}]`);
    }
  }
  return addresses;
}

const readyz = (port: number): Promise<number> =>
  fetch(`http://127.0.0.1:${port}/readyz`)
    .then((response) => response.status)
    .catch(() => 0);

/**
 * Waits for the banner, then checks at once what it promises: every app
 * answers ready, and the edge reaches the api. Returns each app's pid.
 */
async function expectUpWhenBannerSays(startPid: number, lines: string[], ports: Ports): Promise<Record<AppName, number>> {
  await waitFor(() => lines.some((line) => line.startsWith(BANNER)), { timeoutMs: 45_000, intervalMs: 10, what: 'the banner' }).catch((error: Error) => {
    throw new Error(`${error.message}; its last output:\n${lines.slice(-30).join('\n')}`);
  });
  const statuses = await Promise.all(APP_NAMES.map((app) => readyz(ports.health[app])));
  expect(Object.fromEntries(APP_NAMES.map((app, index) => [app, statuses[index]]))).toEqual(Object.fromEntries(APP_NAMES.map((app) => [app, 200])));
  const graphql = await fetch(`http://127.0.0.1:${ports.main.PORT}/event-service/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', Token: token },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  expect(graphql.status).toBe(200);
  // Local by default: the origin and every app's ports listen on loopback only.
  const listeners = [...Object.values(ports.main), ...Object.values(ports.health)].map((port) => ({ port, addresses: listenAddresses(port) }));
  expect(listeners).toEqual(listeners.map(({ port }) => ({ port, addresses: ['127.0.0.1'] })));

  // Before the banner it said whom it waited for: at first, every app.
  const banner = lines.findIndex((line) => line.startsWith(BANNER));
  const firstWaiting = lines.findIndex((line) => line.startsWith('waiting for '));
  expect(firstWaiting).toBeGreaterThanOrEqual(0);
  expect(firstWaiting).toBeLessThan(banner);
  for (const app of APP_NAMES) expect(lines[firstWaiting]).toContain(app);

  const apps = childrenOf(startPid);
  const pids = Object.fromEntries(APP_NAMES.map((app) => [app, apps.find((child) => child.args.includes(`/dist/apps/${app}/src/main.js`))?.pid]));
  expect(Object.values(pids).every((pid) => pid !== undefined)).toBe(true);
  for (const pid of Object.values(pids)) started.add(pid!);
  return pids as Record<AppName, number>;
}

async function expectAllGone(pids: number[], ports: Ports): Promise<void> {
  await waitFor(() => pids.every(isGone), { timeoutMs: 15_000, what: 'every process to be gone' }).catch((error: Error) => {
    throw new Error(`${error.message}; still running: ${pids.filter((pid) => !isGone(pid)).join(', ')}`);
  });
  const allPorts = [...Object.values(ports.main), ...Object.values(ports.health)];
  await waitFor(async () => (await Promise.all(allPorts.map(isListening))).every((listening) => !listening), { timeoutMs: 5_000, what: 'every port to be closed' });
}

describe('npm start owns the apps it starts', () => {
  afterAll(async () => {
    for (const pid of started) {
      if (!isGone(pid)) process.kill(pid, 'SIGKILL');
    }
    const nats = await connect({ servers: NATS_URL });
    await deleteStreamsOf(await jetstreamManager(nats), prefix);
    await nats.close();
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await dropAppRoles(db, schema);
    await db.end();
  });

  it('prints its banner once every app is ready, and stops every app when the npm that ran it is SIGKILLed', async () => {
    const ports = await freshPorts();
    // As `npm start` runs it: npm runs the script through `sh -c`, so start.js's
    // parent is that shell, and SIGKILL to npm leaves the shell alive.
    const npmLike = spawn(
      process.execPath,
      ['-e', `require('node:child_process').spawn('sh', ['-c', 'true && "$0" ${START_JS}', process.execPath], { stdio: 'inherit' })`],
      { cwd: ROOT, env: startEnv(ports), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    started.add(npmLike.pid!);
    const lines = linesOf(npmLike.stdout, npmLike.stderr);
    const shell = await waitFor(() => childrenOf(npmLike.pid!)[0]?.pid, { what: 'the script shell' });
    const start = await waitFor(() => childrenOf(shell)[0]?.pid, { what: 'start.js' });
    started.add(shell).add(start);

    const apps = await expectUpWhenBannerSays(start, lines, ports);

    npmLike.kill('SIGKILL');
    await expectAllGone([start, shell, ...Object.values(apps)], ports);
    expect(lines.some((line) => line.startsWith('stopping (the process that started it'))).toBe(true);
  }, 60_000);

  it("runs the README's quick start: its second command prints the simulated identifications as they arrive; then stops every app and exits 0 on SIGTERM", async () => {
    const ports = await freshPorts();
    const [serviceLine, quickstartLine] = quickStartCommands();
    const readmeToken = /^API_TOKEN=(\S+) npm start$/.exec(serviceLine)![1]!;
    expect(quickstartLine).toBe(`EVENT_SERVICE_TOKEN=${readmeToken} npx event-service quickstart`);
    const start = spawn(process.execPath, [START_JS], { cwd: ROOT, env: { ...startEnv(ports), API_TOKEN: readmeToken }, stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(start.pid!);
    const exited = new Promise<number | null>((resolve) => start.once('exit', resolve));
    const lines = linesOf(start.stdout, start.stderr);

    const apps = await expectUpWhenBannerSays(start.pid!, lines, ports);
    // As a user runs it in a second terminal, at the origin npm start serves (PORT moved it for this run).
    const quickstart = spawnSync('sh', ['-c', quickstartLine], { cwd: ROOT, env: { PATH: process.env.PATH, EVENT_SERVICE_URL: `http://localhost:${ports.main.PORT}` }, encoding: 'utf8', timeout: 60_000 });
    expect([quickstart.status, quickstart.stderr]).toEqual([0, '']);
    const arrived = quickstart.stdout.split('\n').filter((line) => / identification +camera=/.test(line));
    expect(arrived.length).toBeGreaterThan(0);
    expect(quickstart.stdout).toContain(`${arrived.length} of the ${arrived.length} identifications among 30 simulated events arrived`);

    start.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expectAllGone(Object.values(apps), ports);
    expect(lines).toContain('stopping (SIGTERM)');
  }, 60_000);

  it('leaves no app running when start.js itself is SIGKILLed', async () => {
    const ports = await freshPorts();
    const start = spawn(process.execPath, [START_JS], { cwd: ROOT, env: startEnv(ports), stdio: ['ignore', 'pipe', 'pipe'] });
    started.add(start.pid!);
    const lines = linesOf(start.stdout, start.stderr);

    const apps = await expectUpWhenBannerSays(start.pid!, lines, ports);

    // Nothing of start.js runs any more: each app notices on its own (scripts/lifeline.ts).
    start.kill('SIGKILL');
    await expectAllGone([start.pid!, ...Object.values(apps)], ports);
  }, 60_000);
});
