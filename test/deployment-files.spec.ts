import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { APP_NAMES, appEntry, projectRoot } from '../scripts/local-stack.js';

/**
 * docker-compose.yml and k8s/ cannot be run here (no Docker engine, no
 * cluster); these checks catch what would break them for a user.
 */
const root = projectRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const documentedVariables = new Set([...read('README.md').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!));

type Manifest = { kind: string; metadata: { name: string }; spec: any; data?: Record<string, string> };
const manifests: Manifest[] = readdirSync(join(root, 'k8s'))
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(read(join('k8s', file))).map((doc) => doc.toJS() as Manifest));

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };

  it('brings up NATS with JetStream, PostgreSQL and every app with its built entry point', () => {
    expect(compose.services.nats.command).toContain('-js');
    expect(compose.services.postgres.image).toMatch(/^postgres:15/);
    for (const app of APP_NAMES) {
      const command = compose.services[app]?.command as string[];
      expect(command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
      expect(existsSync(appEntry(app))).toBe(true);
    }
    expect(compose.services.edge.command).toEqual(['node', 'dist/scripts/edge.js']);
    expect(existsSync(join(root, 'dist/scripts/edge.js'))).toBe(true);
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

  it('configures only variables the README documents', () => {
    const configMap = manifests.find((manifest) => manifest.kind === 'ConfigMap')!;
    for (const variable of Object.keys(configMap.data ?? {})) {
      expect([variable, documentedVariables.has(variable)]).toEqual([variable, true]);
    }
  });
});
