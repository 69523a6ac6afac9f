import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DATABASE_APPS, migrateDatabase, roleOf, urlAs, type DatabaseApp } from '@app/persistence';

/** The apps of the service, each run as its own process as in production. */
export const APP_NAMES = ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'] as const;
export type AppName = (typeof APP_NAMES)[number];
/**
 * An app besides those: the credentials issuer, which runs only with NATS in
 * operator mode (docs/operations.md, "Agents' NATS credentials"), so `npm
 * start` and the test stacks leave it out.
 */
export type ServiceApp = AppName | 'credentials-issuer';

/** The project's root: the nearest folder above this file with a package-lock.json. */
export function projectRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package-lock.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error('cannot find the project root (no package-lock.json above this file)');
    folder = parent;
  }
  return folder;
}

/** The compiled entry point of an app (after `npm run build`). */
export function appEntry(app: ServiceApp): string {
  return join(projectRoot(), 'dist', 'apps', app, 'src', 'main.js');
}

/**
 * V8 flags per app, the same as the container images and k8s/ set through
 * NODE_OPTIONS. filter-router keeps every filter in its heap (about 0.5 GB at a
 * million filters): a larger young generation keeps each event's short-lived
 * objects out of that old generation, whose size makes every promotion and
 * scavenge dearer (docs/benchmarks.md).
 */
export const NODE_FLAGS: Record<ServiceApp, string[]> = {
  api: [],
  ingest: [],
  'profile-sync': [],
  'filter-router': ['--max-semi-space-size=128'],
  'websocket-gateway': [],
  'webhook-dispatcher': [],
  'credentials-issuer': [],
};

/** What spawnApp does besides starting the app. */
export interface SpawnOptions {
  /**
   * Ties the app to this process: it gets a pipe on fd 3 and preloads
   * scripts/lifeline.ts, which stops the app when this process ends, however
   * it ends (SIGKILL included). `npm start`, the test stacks and the benchmarks use it so that no app outlives them.
   */
  lifeline?: boolean;
}

/** Starts one app as a child process with the given environment. */
export function spawnApp(app: ServiceApp, env: NodeJS.ProcessEnv, output: 'inherit' | 'pipe' | 'ignore' = 'pipe', { lifeline = false }: SpawnOptions = {}): ChildProcess {
  const preload = lifeline ? ['--import', pathToFileURL(join(projectRoot(), 'dist', 'scripts', 'lifeline.js')).href] : [];
  // CPU_PROFILE_DIR in the app's environment: it writes a V8 CPU profile under <dir>/<app> when it stops (Node refuses --cpu-prof in NODE_OPTIONS).
  const profile = env.CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${join(env.CPU_PROFILE_DIR, app)}`] : [];
  return spawn(process.execPath, ['--enable-source-maps', ...NODE_FLAGS[app], ...profile, ...preload, appEntry(app)], {
    env,
    stdio: lifeline ? ['ignore', output, output, 'pipe'] : ['ignore', output, output],
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * The migration step of a local run (`npm start`, the test stacks): applies
 * the migrations as `url`'s user and gives each database app its role, with a
 * password made for this run; returns the URL each app connects with (its
 * role, on the same server and database).
 */
export async function migrateForApps(url: string, schema: string): Promise<Record<DatabaseApp, string>> {
  const passwords = Object.fromEntries(DATABASE_APPS.map((app) => [app, randomBytes(18).toString('base64url')])) as Record<DatabaseApp, string>;
  await migrateDatabase({ url, schema }, passwords);
  return Object.fromEntries(DATABASE_APPS.map((app) => [app, urlAs(url, roleOf(schema, app), passwords[app])])) as Record<DatabaseApp, string>;
}

export const usesDatabase = (app: AppName): app is DatabaseApp => (DATABASE_APPS as readonly string[]).includes(app);
