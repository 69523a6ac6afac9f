import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { z } from 'zod';
import { ConfigError, databaseEnv, loadConfig, resolveApiToken } from '@app/config';
import type { DatabaseApp } from '@app/persistence';
import { retryWhileTransient } from '@app/runtime';
import { createEdgeProxy } from './edge-proxy.js';
import { APP_NAMES, isListening, migrateForApps, spawnApp, usesDatabase, type AppName } from './local-stack.js';

/**
 * `npm start`: every app in its own process against the local NATS and
 * PostgreSQL, behind one origin (http://localhost:8080 by default) that
 * serves the public URLs as the Kubernetes Ingress does in production.
 *
 * It owns the apps it starts: stopped in any way (Ctrl-C, SIGTERM, the end of
 * the npm or shell that started it) it stops them all, and each app stops by
 * itself should start.js be killed outright (scripts/lifeline.ts). It prints
 * its banner only once every app answers ready and the edge listens.
 */

/** The variable holding an app's health port under `npm start`: API_HEALTH_PORT, FILTER_ROUTER_HEALTH_PORT, … */
const healthPortVar = (app: AppName): string => `${app.toUpperCase().replaceAll('-', '_')}_HEALTH_PORT`;
const DEFAULT_HEALTH_PORTS: Record<AppName, number> = { api: 9101, ingest: 9102, 'filter-router': 9103, 'websocket-gateway': 9104, 'webhook-dispatcher': 9105, 'profile-sync': 9106 };
/** The apps with a port of their own besides health, and the variable that sets it (the app reads the same one). */
const MAIN_PORT_VARS = { api: 'API_PORT', ingest: 'INGEST_PORT', 'websocket-gateway': 'GATEWAY_PORT' } as const;
type ServingApp = keyof typeof MAIN_PORT_VARS;
const RESTART_DELAY_MS = 2_000;
const STOP_LIMIT_MS = 10_000;
const READY_POLL_MS = 250;
const WAITING_REMINDER_MS = 10_000;
const OWNER_POLL_MS = 500;

// start.js routes to and probes every port, so it must know each: 0 (any free port) is refused.
const knownPort = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);

/** The environment checked against `schema`; exits with one line naming each bad variable. */
function loadOrExit<T extends z.ZodType>(schema: T): z.infer<T> {
  try {
    return loadConfig(schema, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`npm start: ${error.message}\n`);
    process.exit(1);
  }
}

/** Every port of the run, by variable name. */
const loadStartConfig = (): Record<string, number> =>
  loadOrExit(
    z.object({
      PORT: knownPort(8080),
      API_PORT: knownPort(8083),
      INGEST_PORT: knownPort(8081),
      GATEWAY_PORT: knownPort(8082),
      ...(Object.fromEntries(APP_NAMES.map((app) => [healthPortVar(app), knownPort(DEFAULT_HEALTH_PORTS[app])])) as Record<string, ReturnType<typeof knownPort>>),
    }),
  );

const config = loadStartConfig();
const database = loadOrExit(z.object(databaseEnv));
const publicPort = config.PORT;
const mainPorts: Record<ServingApp, number> = { api: config.API_PORT, ingest: config.INGEST_PORT, 'websocket-gateway': config.GATEWAY_PORT };
const healthPorts = Object.fromEntries(APP_NAMES.map((app) => [app, config[healthPortVar(app)]])) as Record<AppName, number>;
const token = resolveApiToken(process.env.API_TOKEN, process.env.NODE_ENV ?? 'development');

const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  API_TOKEN: token.token,
  PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? `http://localhost:${publicPort}`,
  API_PORT: String(mainPorts.api),
  INGEST_PORT: String(mainPorts.ingest),
  GATEWAY_PORT: String(mainPorts['websocket-gateway']),
};

const children = new Map<AppName, ChildProcess>();
let stopping = false;
let up = false;
let edgeListening = false;

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
const isRunning = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;
const hasMainPort = (app: AppName): app is ServingApp => app in MAIN_PORT_VARS;

function start(app: AppName): void {
  if (stopping) return;
  const database = usesDatabase(app) ? { DATABASE_URL: databaseUrls[app] } : {};
  const child = spawnApp(app, { ...baseEnv, ...database, HEALTH_PORT: String(healthPorts[app]) }, 'pipe', { lifeline: true });
  children.set(app, child);
  const label = `[${app}]`.padEnd(20);
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) say(`${label} ${line}`);
    });
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    say(`${label} exited${up ? '' : ' during start'} (${signal ?? code}); restarting in ${RESTART_DELAY_MS / 1000} s`);
    setTimeout(() => start(app), RESTART_DELAY_MS);
  });
}

/** Stops every app (SIGTERM, then SIGKILL for any still running after STOP_LIMIT_MS), then exits. */
function stop(reason: string, exitCode = 0): void {
  if (stopping) return;
  stopping = true;
  say(`stopping (${reason})`);
  proxy.close();
  const running = [...children].filter(([, child]) => isRunning(child));
  for (const [, child] of running) child.kill('SIGTERM');
  setTimeout(() => {
    for (const [app, child] of running) {
      if (!isRunning(child)) continue;
      say(`${app} did not stop within ${STOP_LIMIT_MS / 1000} s; killing it`);
      child.kill('SIGKILL');
    }
  }, STOP_LIMIT_MS).unref();
  void Promise.all(running.map(([, child]) => new Promise((resolve) => (isRunning(child) ? child.once('exit', resolve) : resolve(null))))).then(() => process.exit(exitCode));
}

/** True when the port can be listened on (the apps and the edge listen on every interface). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/** Ready: the app's own process is running, its /readyz answers 200, and its main port (if any) accepts connections. */
async function isReady(app: AppName): Promise<boolean> {
  const child = children.get(app);
  if (!child || !isRunning(child)) return false;
  const ready = await fetch(`http://127.0.0.1:${healthPorts[app]}/readyz`, { signal: AbortSignal.timeout(2_000) })
    .then(async (response) => {
      await response.body?.cancel();
      return response.ok;
    })
    .catch(() => false);
  return ready && (!hasMainPort(app) || (await isListening(mainPorts[app])));
}

/** Says which apps it is waiting for (when that changes, and every WAITING_REMINDER_MS), then prints the banner. */
async function announceWhenUp(): Promise<void> {
  const startedAt = Date.now();
  let reported = '';
  let reportedAt = 0;
  for (;;) {
    const readiness = await Promise.all(APP_NAMES.map(isReady));
    const waiting: string[] = APP_NAMES.filter((_, index) => !readiness[index]);
    if (!edgeListening) waiting.push(`the edge on port ${publicPort}`);
    if (stopping) return;
    if (waiting.length === 0) break;
    const now = Date.now();
    if (waiting.join() !== reported || now - reportedAt >= WAITING_REMINDER_MS) {
      say(`waiting for ${waiting.join(', ')} to be ready (${Math.round((now - startedAt) / 1000)} s)`);
      reported = waiting.join();
      reportedAt = now;
    }
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
  }
  up = true;
  const origin = `http://localhost:${publicPort}`;
  say(
    [
      '',
      `event-service is up on ${origin}`,
      `  dashboard   ${origin}/`,
      `  GraphQL     ${origin}/event-service/graphql`,
      `  websocket   ${origin.replace('http', 'ws')}/event-service/ws?endpoint_id=<id>`,
      `  events in   POST ${origin}/event-service/events   or NATS subject ${process.env.NATS_PREFIX ?? 'es'}.agents.<agent_id>.events`,
      `  token       ${token.generated ? `${token.token}   (generated: set API_TOKEN to choose one)` : '(API_TOKEN)'}`,
      '',
    ].join('\n'),
  );
}

const hasProc = existsSync('/proc/self/stat');

/** The parent of a process, or undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    if (!hasProc) return Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * Stops when whoever started start.js is gone: its parent, and that parent's
 * parent unless it is init. npm (like yarn and pnpm) runs the script through
 * `sh -c`, and that shell outlives an npm killed with SIGKILL, so watching the
 * parent alone would miss `kill -9 <npm>`. Polled, as no portable call tells a
 * process that its parent ended. A process's children are reparented the
 * moment it exits, so a changed parent id is the sign: no pid-reuse mistakes,
 * and a dead parent not yet reaped (a zombie) counts as gone.
 */
function stopWithOwners(): void {
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  setInterval(() => {
    if (process.ppid !== parent) stop(`the process that started it, pid ${parent}, is gone`);
    else if (grandparent !== undefined && grandparent > 1 && parentOf(parent) !== grandparent) stop(`the process that started it, pid ${grandparent}, is gone`);
  }, OWNER_POLL_MS).unref();
}

const proxy = createEdgeProxy([
  { prefix: '/event-service/ws', port: mainPorts['websocket-gateway'] },
  { prefix: '/event-service/events', port: mainPorts.ingest },
  { prefix: '/', port: mainPorts.api },
]);
proxy.on('error', (error: Error) => stop(`the edge cannot listen on port ${publicPort}: ${error.message}`, 1));

process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGHUP', () => stop('SIGHUP'));
// Its output gone (say `npm start | tee log` with tee killed), nobody watches it any more.
process.stdout.on('error', () => stop('its output was closed'));
stopWithOwners();

// Another `npm start` (or anything) on one of these ports would answer the
// readiness probes in place of the app this run starts; refuse instead.
const wanted: Array<[string, number]> = [
  ['PORT', publicPort],
  ...Object.values(MAIN_PORT_VARS).map((name): [string, number] => [name, config[name]]),
  ...APP_NAMES.map((app): [string, number] => [healthPortVar(app), healthPorts[app]]),
];
const taken = (await Promise.all(wanted.map(async ([name, port]) => ((await isFree(port)) ? [] : [`port ${port} (${name})`])))).flat();
if (taken.length > 0) {
  process.stderr.write(`npm start: already in use: ${taken.join(', ')}. Another npm start? Set these variables to free ports.\n`);
  process.exit(1);
}

// The migration step first, as the Kubernetes Job does: the apps connect as their own roles and never migrate.
const databaseUrls: Record<DatabaseApp, string> = await retryWhileTransient('migrating PostgreSQL', () => migrateForApps(database.DATABASE_URL, database.DATABASE_SCHEMA)).catch((error: Error) => {
  process.stderr.write(`npm start: the migration step failed: ${error.message}\n`);
  process.exit(1);
});
say(`migrated schema ${database.DATABASE_SCHEMA}; the apps connect as their own roles (${database.DATABASE_SCHEMA}_api, …)`);

for (const app of APP_NAMES) start(app);
// Local by default, like the apps (LISTEN_HOST, docs/operations.md).
proxy.listen(publicPort, process.env.LISTEN_HOST || '127.0.0.1', () => {
  edgeListening = true;
});
await announceWhenUp();
