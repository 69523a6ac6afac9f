import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse, parseAllDocuments } from 'yaml';
import { apiEnv } from '../apps/api/src/api.config.js';
import { routerEnv } from '../apps/filter-router/src/router.config.js';
import { ingestEnv } from '../apps/ingest/src/ingest.config.js';
import { profileSyncEnv } from '../apps/profile-sync/src/profile-sync.config.js';
import { dispatcherEnv } from '../apps/webhook-dispatcher/src/dispatcher.config.js';
import { gatewayEnv } from '../apps/websocket-gateway/src/gateway.config.js';
import { APP_NAMES, projectRoot, type AppName } from '../scripts/local-stack.js';

/**
 * Each app gets only the variables its config loader reads: a secret given
 * to an app that does not need it is one more place it can leak from (a
 * taken-over router must not hold the key that opens webhook secrets). Read
 * from the manifests as shipped, against the loaders' own schemas.
 */
const root = projectRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** What each app's loader reads; and what Node itself reads (not the app's loader). */
const READ: Record<AppName, Set<string>> = {
  api: new Set(Object.keys(apiEnv.shape)),
  ingest: new Set(Object.keys(ingestEnv.shape)),
  'profile-sync': new Set(Object.keys(profileSyncEnv.shape)),
  'filter-router': new Set(Object.keys(routerEnv.shape)),
  'websocket-gateway': new Set(Object.keys(gatewayEnv.shape)),
  'webhook-dispatcher': new Set(Object.keys(dispatcherEnv.shape)),
};
const NODE_READS = new Set(['NODE_OPTIONS']);

/** The variables given that the app does not read, by app. */
function unread(given: Record<AppName, string[]>): Record<string, string[]> {
  return Object.fromEntries(APP_NAMES.map((app) => [app, given[app].filter((name) => !READ[app].has(name) && !NODE_READS.has(name)).sort()]));
}
const nothingUnread = Object.fromEntries(APP_NAMES.map((app) => [app, []]));

describe('each app gets only the variables its loader reads', () => {
  it('in k8s/: its ConfigMap, its secrets and its own values', () => {
    const documents = ['configmap.yaml', ...APP_NAMES.map((app) => `${app}.yaml`)].flatMap((file) => parseAllDocuments(read(join('k8s', file))).map((doc) => doc.toJS()));
    const configMaps = new Map(documents.filter((doc) => doc.kind === 'ConfigMap').map((doc) => [doc.metadata.name as string, Object.keys(doc.data ?? {})]));
    const given = Object.fromEntries(
      APP_NAMES.map((app) => {
        const container = documents.find((doc) => doc.kind === 'Deployment' && doc.metadata.name === app).spec.template.spec.containers[0];
        const fromMaps = (container.envFrom ?? []).flatMap((source: { configMapRef?: { name: string }; secretRef?: { name: string } }) => {
          // A whole secret would give every key of it: refused outright.
          if (source.secretRef) return [`<every key of secret ${source.secretRef.name}>`];
          return configMaps.get(source.configMapRef!.name) ?? [];
        });
        return [app, [...fromMaps, ...(container.env ?? []).map((entry: { name: string }) => entry.name)]];
      }),
    ) as Record<AppName, string[]>;
    expect(unread(given)).toEqual(nothingUnread);
  });

  it('in docker-compose.yml', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { environment?: Record<string, unknown> }> };
    const given = Object.fromEntries(APP_NAMES.map((app) => [app, Object.keys(compose.services[app]!.environment ?? {})])) as Record<AppName, string[]>;
    expect(unread(given)).toEqual(nothingUnread);
  });

  it('keeps the keys that open webhook secrets and the database away from the apps that have no use for them', () => {
    for (const app of ['ingest', 'filter-router', 'websocket-gateway', 'profile-sync'] as const) expect([app, READ[app].has('SECRET_KEYS')]).toEqual([app, false]);
    for (const app of ['ingest', 'filter-router', 'websocket-gateway'] as const) expect([app, READ[app].has('DATABASE_URL')]).toEqual([app, false]);
  });
});
