import type { ChildProcess } from 'node:child_process';
import { resolveApiToken } from '@app/config';
import { createEdgeProxy } from './edge-proxy.js';
import { APP_NAMES, spawnApp, type AppName } from './local-stack.js';

/**
 * `npm start`: every app in its own process against the local NATS and
 * PostgreSQL, behind one origin (http://localhost:8080 by default) that
 * serves the public URLs as the Kubernetes Ingress does in production.
 */
const publicPort = Number(process.env.PORT ?? 8080);
const ports: Record<AppName, number> = { api: 8083, ingest: 8081, 'profile-sync': 0, 'filter-router': 0, 'websocket-gateway': 8082, 'webhook-dispatcher': 0 };
const healthPorts: Record<AppName, number> = { api: 9101, ingest: 9102, 'profile-sync': 9106, 'filter-router': 9103, 'websocket-gateway': 9104, 'webhook-dispatcher': 9105 };
const token = resolveApiToken(process.env.API_TOKEN, process.env.NODE_ENV ?? 'development');

const baseEnv: NodeJS.ProcessEnv = {
  ...process.env,
  API_TOKEN: token.token,
  PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? `http://localhost:${publicPort}`,
  API_PORT: String(ports.api),
  INGEST_PORT: String(ports.ingest),
  GATEWAY_PORT: String(ports['websocket-gateway']),
};

const children = new Map<AppName, ChildProcess>();
let stopping = false;

function start(app: AppName): void {
  const child = spawnApp(app, { ...baseEnv, HEALTH_PORT: String(healthPorts[app]) });
  children.set(app, child);
  const label = `[${app}]`.padEnd(20);
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${label} ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    process.stdout.write(`${label} exited (${signal ?? code}); restarting in 2 s\n`);
    setTimeout(() => start(app), 2_000);
  });
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const child of children.values()) child.kill('SIGTERM');
  proxy.close();
  setTimeout(() => process.exit(0), 5_000).unref();
  Promise.all([...children.values()].map((child) => new Promise((resolve) => child.once('exit', resolve)))).then(() => process.exit(0));
}

for (const app of APP_NAMES) start(app);

const proxy = createEdgeProxy([
  { prefix: '/event-service/ws', port: ports['websocket-gateway'] },
  { prefix: '/event-service/events', port: ports.ingest },
  { prefix: '/', port: ports.api },
]);
proxy.listen(publicPort, () => {
  const origin = `http://localhost:${publicPort}`;
  process.stdout.write(
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
});

process.on('SIGINT', stop);
process.on('SIGTERM', stop);
