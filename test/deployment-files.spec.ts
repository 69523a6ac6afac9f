import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { APP_NAMES, appEntry, projectRoot } from '../scripts/local-stack.js';
import { natsLayout } from './support/nats-layout.js';

/**
 * docker-compose.yml and k8s/ cannot be run here (no Docker engine, no
 * cluster); these checks catch what would break them for a user.
 */
const root = projectRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const documentedVariables = new Set([...read('README.md').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!));

const layout = natsLayout();

type Manifest = { kind: string; metadata: { name: string }; spec: any; data?: Record<string, string> };
const manifests: Manifest[] = readdirSync(join(root, 'k8s'))
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(read(join('k8s', file))).map((doc) => doc.toJS() as Manifest));

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };

  it('brings up NATS with JetStream, PostgreSQL and every app with its built entry point', () => {
    // The server's config is deploy/nats/nats-server.conf, mounted: JetStream, and the permission layout next to it.
    expect(compose.services.nats.command).toEqual(['-c', '/etc/nats/nats-server.conf']);
    expect(compose.services.nats.volumes).toContain('./deploy/nats:/etc/nats:ro');
    expect(read('deploy/nats/nats-server.conf')).toMatch(/^jetstream \{\n\s+store_dir: \/data\n\}$/m);
    expect(read('deploy/nats/nats-server.conf')).toMatch(/^include event-service\.conf$/m);
    expect(compose.services.postgres.image).toMatch(/^postgres:15/);
    for (const app of APP_NAMES) {
      const command = compose.services[app]?.command as string[];
      expect(command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
      expect(existsSync(appEntry(app))).toBe(true);
    }
    expect(compose.services.edge.command).toEqual(['node', 'dist/scripts/edge.js']);
    expect(existsSync(join(root, 'dist/scripts/edge.js'))).toBe(true);
  });

  it("gives each app its own user of the NATS permission layout, and NATS every password the layout reads", () => {
    for (const app of APP_NAMES) {
      const variable = layout.passwordVariables.get(app);
      expect([app, variable]).toEqual([app, expect.any(String)]);
      expect(compose.services[app].environment).toMatchObject({
        NATS_USER: app,
        NATS_INBOX_PREFIX: `_INBOX_${app}`,
        NATS_PASSWORD: expect.stringMatching(new RegExp(`^\\$\\{${variable}:\\?`)),
      });
    }
    const natsEnvironment = compose.services.nats.environment as Record<string, string>;
    expect(Object.keys(natsEnvironment).sort()).toEqual([...layout.passwordVariables.values()].sort());
    for (const [variable, value] of Object.entries(natsEnvironment)) expect(value).toMatch(new RegExp(`^\\$\\{${variable}:\\?`));
  });

  it('checks the health of every service, and starts each only once what it depends on is healthy', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
      for (const [dependency, condition] of Object.entries(service.depends_on ?? {})) {
        expect([name, dependency, condition]).toEqual([name, dependency, { condition: 'service_healthy' }]);
        expect(compose.services[dependency]?.healthcheck).toBeDefined();
      }
    }
    for (const app of APP_NAMES) {
      expect(Object.keys(compose.services[app].depends_on)).toContain('nats');
      // The apps' check asks the health port their environment sets.
      expect(compose.services[app].healthcheck.test.join(' ')).toMatch(/process\.env\.HEALTH_PORT \+ '\/readyz'/);
      expect(compose.services[app].environment.HEALTH_PORT).toMatch(/^\d+$/);
    }
    for (const app of ['api', 'profile-sync', 'webhook-dispatcher']) expect(Object.keys(compose.services[app].depends_on)).toContain('postgres');
    expect(Object.keys(compose.services.edge.depends_on).sort()).toEqual(['api', 'ingest', 'websocket-gateway']);
    // nats: the monitoring port nats-server.conf opens; postgres: pg_isready.
    const monitorPort = /^http_port: (\d+)$/m.exec(read('deploy/nats/nats-server.conf'))?.[1];
    expect(compose.services.nats.healthcheck.test).toEqual(['CMD', 'wget', '-q', '--spider', `http://127.0.0.1:${monitorPort}/healthz`]);
    expect(compose.services.postgres.healthcheck.test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
  });

  it("runs the apps' health check as the image would: healthy on /readyz 200, unhealthy on 503 or no answer", async () => {
    const [, node, ...args] = compose.services.api.healthcheck.test as string[];
    expect(node).toBe('node');
    let ready = true;
    const server: Server = createServer((request, response) => {
      response.writeHead(request.url === '/readyz' && ready ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    // Asynchronous, so that this process's server answers while the check runs.
    const check = (healthPort: number) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, args, { env: { ...process.env, HEALTH_PORT: String(healthPort) }, stdio: 'ignore' });
        child.on('exit', (code) => resolve(code));
      });
    try {
      expect(await check(port)).toBe(0);
      ready = false;
      expect(await check(port)).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await check(port)).toBe(1);
  });

  it('sets only variables the README documents', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'nats' || name === 'postgres') continue;
      for (const variable of Object.keys(service.environment ?? {})) {
        expect([variable, documentedVariables.has(variable)]).toEqual([variable, true]);
      }
    }
  });
});

describe('k8s/', () => {
  it('lists every manifest in kustomization.yaml', () => {
    const kustomization = parse(read('k8s/kustomization.yaml')) as { resources: string[] };
    const files = readdirSync(join(root, 'k8s')).filter((file) => file.endsWith('.yaml') && !['kustomization.yaml', 'secret.example.yaml'].includes(file));
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it.each(APP_NAMES)('deploys %s on its own with probes on its health port', (app) => {
    const deployment = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === app);
    const container = deployment?.spec.template.spec.containers[0];
    expect(container.command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.ports).toContainEqual({ name: 'health', containerPort: 9100 });
    expect(deployment?.spec.selector.matchLabels).toEqual(deployment?.spec.template.metadata.labels);
  });

  it('routes the public URLs to the apps that serve them, on ports those apps listen on', () => {
    const ingress = manifests.find((manifest) => manifest.kind === 'Ingress')!;
    const routes = Object.fromEntries(
      ingress.spec.rules[0].http.paths.map((path: any) => [path.path, path.backend.service.name as string]),
    );
    expect(routes).toEqual({ '/event-service/ws': 'websocket-gateway', '/event-service/events': 'ingest', '/': 'api' });
    for (const service of Object.values(routes)) {
      const deployment = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === service)!;
      const container = deployment.spec.template.spec.containers[0];
      const http = container.ports.find((port: any) => port.name === 'http');
      const portVariable = container.env.find((variable: any) => variable.name.endsWith('_PORT'));
      expect(Number(portVariable.value)).toBe(http.containerPort);
      expect(manifests.some((manifest) => manifest.kind === 'Service' && manifest.metadata.name === service)).toBe(true);
    }
  });

  it('runs NATS with the permission layout through the NATS Helm chart, with every password the layout reads', () => {
    const values = parse(read('k8s/nats/values.yaml')) as { config: any; configMap: any; container: { env: Record<string, any> } };
    expect(values.config.jetstream.enabled).toBe(true);
    expect(values.config.merge['00$include']).toBe('event-service.conf');
    // The chart's copy is the shipped file itself.
    expect(values.configMap.merge.data['event-service.conf']).toBe(layout.text);
    expect(Object.keys(values.container.env).sort()).toEqual([...layout.passwordVariables.values()].sort());
    const natsSecret = parse(read('k8s/nats/secret.example.yaml')) as { metadata: { name: string }; stringData: Record<string, string> };
    for (const variable of layout.passwordVariables.values()) {
      const { name, key } = values.container.env[variable].valueFrom.secretKeyRef;
      expect([variable, name, key in natsSecret.stringData]).toEqual([variable, natsSecret.metadata.name, true]);
    }
  });

  it.each(APP_NAMES)('gives %s its own user of the NATS permission layout', (app) => {
    const deployment = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === app)!;
    const env = deployment.spec.template.spec.containers[0].env as Array<{ name: string; value?: string; valueFrom?: any }>;
    const byName = Object.fromEntries(env.map((variable) => [variable.name, variable]));
    expect(layout.passwordVariables.has(app)).toBe(true);
    expect(byName.NATS_USER?.value).toBe(app);
    expect(byName.NATS_INBOX_PREFIX?.value).toBe(`_INBOX_${app}`);
    const { name, key } = byName.NATS_PASSWORD?.valueFrom.secretKeyRef ?? {};
    const secret = manifests.find((manifest) => manifest.kind === 'Secret' && manifest.metadata.name === name) as (Manifest & { stringData: Record<string, string> }) | undefined;
    expect([name, key, secret !== undefined && key in secret.stringData]).toEqual(['event-service-nats', app, true]);
  });

  it('configures only variables the README documents', () => {
    const configMap = manifests.find((manifest) => manifest.kind === 'ConfigMap')!;
    for (const variable of Object.keys(configMap.data ?? {})) {
      expect([variable, documentedVariables.has(variable)]).toEqual([variable, true]);
    }
  });
});
