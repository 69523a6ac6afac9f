import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { connect, credsAuthenticator, type NatsConnection } from '@nats-io/transport-node';
import { ISSUER_FILES } from '@app/messaging';
import { parse, parseAllDocuments } from 'yaml';
import { DATABASE_APPS, roleOf } from '@app/persistence';
import { APP_NAMES, appEntry, projectRoot } from '../scripts/local-stack.js';
import { makeOperatorSetup } from '../scripts/operator-setup.js';
import { OwnNatsServer } from './support/nats-server.js';
import { freePort } from './support/ports.js';

/**
 * docker-compose.yml and k8s/ cannot be run here (no Docker engine, no
 * cluster); these checks catch what would break them for a user.
 */
const root = projectRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const documentedVariables = new Set([...read('docs/configuration.md').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!));


type Manifest = { kind: string; metadata: { name: string }; spec: any; data?: Record<string, string> };
const manifests: Manifest[] = readdirSync(join(root, 'k8s'))
  .filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml')
  .flatMap((file) => parseAllDocuments(read(join('k8s', file))).map((doc) => doc.toJS() as Manifest));

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };

  it('brings up NATS with JetStream, PostgreSQL and every app with its built entry point', () => {
    // The server's config is deploy/nats/nats-server.conf, mounted: JetStream, and the permission layout next to it.
    expect(compose.services.nats.command).toEqual(['-c', '/etc/nats/nats-server.conf']);
    expect(compose.services.nats.volumes).toContain('./deploy/nats/nats-server.conf:/etc/nats/nats-server.conf:ro');
    expect(compose.services.nats.volumes).toContain('./deploy/nats/operator/operator.conf:/etc/nats/operator.conf:ro');
    // The server's certificate and key where its config reads them, and never the CA's key.
    for (const file of [/cert_file: "([^"]+)"/, /key_file: "([^"]+)"/].map((pattern) => pattern.exec(read('deploy/nats/nats-server.conf'))![1]!)) {
      expect(compose.services.nats.volumes).toContain(`./deploy/nats/tls/${file.split('/').pop()}:${file}:ro`);
    }
    expect((compose.services.nats.volumes as string[]).filter((volume) => volume.includes('ca.key'))).toEqual([]);
    expect(read('deploy/nats/nats-server.conf')).toMatch(/^jetstream \{\n\s+store_dir: \/data\n\}$/m);
    expect(read('deploy/nats/nats-server.conf')).toMatch(/^include operator\.conf$/m);
    expect(compose.services.postgres.image).toMatch(/^postgres:15/);
    for (const app of APP_NAMES) {
      const command = compose.services[app]?.command as string[];
      expect(command).toEqual(['node', `dist/apps/${app}/src/main.js`]);
      expect(existsSync(appEntry(app))).toBe(true);
    }
    expect(compose.services['credentials-issuer'].command).toEqual(['node', 'dist/apps/credentials-issuer/src/main.js']);
    expect(existsSync(appEntry('credentials-issuer'))).toBe(true);
    expect(compose.services.edge.command).toEqual(['node', 'dist/scripts/edge.js']);
    expect(existsSync(join(root, 'dist/scripts/edge.js'))).toBe(true);
  });

  it('gives each app the creds file the operator set-up makes for it, the issuer its keys, and NATS no password at all', async () => {
    // What `npm run nats:operator -- --out deploy/nats/operator` writes, here in a directory of this test's own.
    const dir = mkdtempSync(join(tmpdir(), 'event-service-compose-operator-'));
    try {
      await makeOperatorSetup(dir);
      const made = (mounted: string) => existsSync(join(dir, relative('./deploy/nats/operator', mounted)));
      const mountOf = (service: string, target: string) => (compose.services[service].volumes as string[]).map((volume) => volume.split(':')).find(([, inside]) => inside === target)?.[0];
      for (const app of [...APP_NAMES, 'credentials-issuer']) {
        const environment = compose.services[app].environment as Record<string, string>;
        expect([app, environment.NATS_INBOX_PREFIX, environment.NATS_USER, environment.NATS_PASSWORD]).toEqual([app, `_INBOX_${app}`, undefined, undefined]);
        const source = mountOf(app, environment.NATS_CREDS_FILE!);
        expect([app, source]).toEqual([app, `./deploy/nats/operator/creds/${app}.creds`]);
        expect([app, made(source!)]).toEqual([app, true]);
      }
      const issuerDir = mountOf('credentials-issuer', compose.services['credentials-issuer'].environment.ISSUER_KEYS_DIR);
      expect(issuerDir).toBe('./deploy/nats/operator/issuer');
      for (const file of Object.values(ISSUER_FILES)) expect([file, made(join(issuerDir!, file))]).toEqual([file, true]);
      // The keys are the issuer's alone: no other service mounts them.
      for (const [name, service] of Object.entries(compose.services)) {
        if (name !== 'credentials-issuer') expect([name, ((service.volumes ?? []) as string[]).filter((volume) => volume.includes('operator/issuer') || volume.includes('operator/keys'))]).toEqual([name, []]);
      }
      expect(compose.services.api.environment.AGENT_CREDENTIALS).toBe('nats');
      expect(compose.services.nats.environment).toBeUndefined();
      expect(read('.gitignore')).toMatch(/^deploy\/nats\/operator\/$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('checks the health of every service, and starts each only once what it depends on is healthy (or, the migration step, done)', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'migrate') continue;
      expect([name, Array.isArray(service.healthcheck?.test)]).toEqual([name, true]);
      for (const [dependency, condition] of Object.entries(service.depends_on ?? {})) {
        if (dependency === 'migrate') {
          expect([name, condition]).toEqual([name, { condition: 'service_completed_successfully' }]);
          continue;
        }
        expect([name, dependency, condition]).toEqual([name, dependency, { condition: 'service_healthy' }]);
        expect(compose.services[dependency]?.healthcheck).toBeDefined();
      }
    }
    expect(compose.services.migrate).toMatchObject({ command: ['node', 'dist/scripts/migrate.js'], restart: 'no', depends_on: { postgres: { condition: 'service_healthy' } } });
    for (const app of APP_NAMES) {
      expect(Object.keys(compose.services[app].depends_on)).toContain('nats');
      // The apps' check asks the health port their environment sets.
      expect(compose.services[app].healthcheck.test.join(' ')).toMatch(/process\.env\.HEALTH_PORT \+ '\/readyz'/);
      expect(compose.services[app].environment.HEALTH_PORT).toMatch(/^\d+$/);
    }
    // The apps that use PostgreSQL start after the migration step, as their own roles: never the owner the step runs as.
    for (const app of DATABASE_APPS) {
      expect(Object.keys(compose.services[app].depends_on)).toContain('migrate');
      expect(/^postgres:\/\/([^:@]+)[:@]/.exec(compose.services[app].environment.DATABASE_URL as string)?.[1]).toBe(roleOf('event_service', app));
    }
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

  it('sets only variables docs/configuration.md documents', () => {
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

  it('runs NATS in operator mode through the NATS Helm chart: the set-up’s operator.conf included, no password, and no server at all until it is given', async () => {
    const values = parse(read('k8s/nats/values.yaml')) as { config: any; configMap: any; container?: unknown };
    // The server the tests run on, and nothing else of the container (no password in its environment).
    expect(values.container).toEqual({ image: { repository: 'nats', tag: '2.9.10-alpine' } });
    expect(parse(read('docker-compose.yml')).services.nats.image).toBe('nats:2.9.10-alpine');
    expect(values.config.jetstream.enabled).toBe(true);
    expect(values.config.merge['00$include']).toBe('operator.conf');
    expect(read('k8s/nats/values.yaml')).toContain("--set-file 'configMap.merge.data.operator\\.conf=deploy/nats/operator/operator.conf'");
    // The placeholder: a server given it refuses to start, rather than run open.
    const dir = mkdtempSync(join(tmpdir(), 'event-service-helm-placeholder-'));
    try {
      writeFileSync(join(dir, 'nats.conf'), `include "operator.conf"\n`);
      writeFileSync(join(dir, 'operator.conf'), values.configMap.merge.data['operator.conf']);
      await expect(OwnNatsServer.start(['-c', join(dir, 'nats.conf')])).rejects.toThrow(/exited/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(APP_NAMES)('gives %s its own creds file of the operator set-up, and nothing else of it', (app) => {
    const pod = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === app)!.spec.template.spec;
    const env = pod.containers[0].env as Array<{ name: string; value?: string }>;
    const byName = Object.fromEntries(env.map((variable) => [variable.name, variable]));
    expect([byName.NATS_USER, byName.NATS_PASSWORD]).toEqual([undefined, undefined]);
    expect(byName.NATS_INBOX_PREFIX?.value).toBe(`_INBOX_${app}`);
    expect(byName.NATS_CREDS_FILE?.value).toBe(`/etc/nats-creds/${app}.creds`);
    const mount = pod.containers[0].volumeMounts.find((entry: { mountPath: string }) => entry.mountPath === '/etc/nats-creds');
    const volume = pod.volumes.find((entry: { name: string }) => entry.name === mount?.name);
    expect(volume?.secret).toEqual({ secretName: 'event-service-nats-creds', items: [{ key: `${app}.creds`, path: `${app}.creds` }] });
    expect(pod.volumes.filter((entry: { secret?: { secretName: string } }) => entry.secret?.secretName === 'event-service-issuer')).toEqual([]);
  });

  it('runs the credentials issuer alone with its keys, and names in the example secrets every file the set-up makes for them', async () => {
    const issuer = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'credentials-issuer')!;
    const container = issuer.spec.template.spec.containers[0];
    expect(container.command).toEqual(['node', 'dist/apps/credentials-issuer/src/main.js']);
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    const keysDir = container.env.find((variable: { name: string }) => variable.name === 'ISSUER_KEYS_DIR').value;
    const mount = container.volumeMounts.find((entry: { mountPath: string }) => entry.mountPath === keysDir);
    expect(issuer.spec.template.spec.volumes.find((volume: { name: string }) => volume.name === mount.name).secret.secretName).toBe('event-service-issuer');
    expect(manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === 'api')!.spec.template.spec.containers[0].env).toContainEqual({ name: 'AGENT_CREDENTIALS', value: 'nats' });
    const secrets = parseAllDocuments(read('k8s/secret.example.yaml')).map((doc) => doc.toJS() as Manifest & { stringData: Record<string, string> });
    const keysOf = (name: string) => Object.keys(secrets.find((secret) => secret.metadata.name === name)!.stringData).sort();
    const dir = mkdtempSync(join(tmpdir(), 'event-service-k8s-operator-'));
    try {
      await makeOperatorSetup(dir);
      expect(keysOf('event-service-issuer')).toEqual(readdirSync(join(dir, 'issuer')).sort());
      const creds = keysOf('event-service-nats-creds');
      expect(creds).toEqual([...APP_NAMES, 'credentials-issuer'].map((app) => `${app}.creds`).sort());
      for (const file of creds) expect([file, existsSync(join(dir, 'creds', file))]).toEqual([file, true]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('configures only variables docs/configuration.md documents', () => {
    const configMap = manifests.find((manifest) => manifest.kind === 'ConfigMap')!;
    for (const variable of Object.keys(configMap.data ?? {})) {
      expect([variable, documentedVariables.has(variable)]).toEqual([variable, true]);
    }
  });
});

/**
 * TLS by default in docker compose: deploy/nats/make-certs.sh makes the CA and
 * the server's certificate, deploy/nats/nats-server.conf serves the client
 * port with them (run here as compose runs it, its paths moved to a
 * directory of this test's own), and every app trusts the CA.
 */
describe('NATS over TLS, as docker compose runs it', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any> };

  it('gives every app a tls:// URL and the CA the script makes', () => {
    for (const app of APP_NAMES) {
      expect([app, compose.services[app].environment.NATS_URL]).toEqual([app, 'tls://nats:4222']);
      const caFile = compose.services[app].environment.NATS_TLS_CA_FILE as string;
      expect(compose.services[app].volumes).toContain(`./deploy/nats/tls/ca.pem:${caFile}:ro`);
    }
    // The client port on the host's loopback only.
    expect(compose.services.nats.ports).toEqual(['127.0.0.1:4222:4222']);
    expect(read('.gitignore')).toMatch(/^deploy\/nats\/tls\/$/m);
  });

  it('serves the client port with the certificate make-certs.sh makes: a client trusting its CA connects, one without it does not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'event-service-compose-tls-'));
    const connections: NatsConnection[] = [];
    let server: OwnNatsServer | undefined;
    try {
      execFileSync(join(root, 'deploy/nats/make-certs.sh'), [join(dir, 'tls')], { stdio: 'pipe' });
      const config = read('deploy/nats/nats-server.conf')
        .replaceAll('/etc/nats/tls/', `${join(dir, 'tls')}/`)
        .replace(/^http_port: \d+$/m, `http_port: ${await freePort()}`)
        // The store directory is the test server's own (its -sd).
        .replace(/^(\s+)store_dir: \/data$/m, '$1# store_dir given on the command line')
        // The operator set-up beside it, as compose mounts it (its resolver's store in the test's directory).
        .replace(/^include operator\.conf$/m, 'include "operator/operator.conf"');
      await makeOperatorSetup(join(dir, 'operator'), { resolverDir: join(dir, 'jwt') });
      writeFileSync(join(dir, 'nats-server.conf'), config);
      server = await OwnNatsServer.start(['-c', join(dir, 'nats-server.conf')]);
      const url = `tls://127.0.0.1:${server.port}`;
      const ops = credsAuthenticator(readFileSync(join(dir, 'operator', 'creds', 'ops.creds')));
      const as = (tls?: { caFile: string }) =>
        connect({ servers: url, authenticator: ops, timeout: 5_000, reconnect: false, ...(tls ? { tls } : {}) }).then((connection) => {
          connections.push(connection);
          return connection;
        });
      const trusted = await as({ caFile: join(dir, 'tls', 'ca.pem') });
      expect((await trusted.request('$JS.API.INFO', undefined, { timeout: 5_000 })).json<{ type?: string }>().type).toMatch(/account_info_response/);
      await expect(as()).rejects.toThrow();
    } finally {
      await Promise.all(connections.map((connection) => connection.close()));
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('k8s/ over TLS, behind network policies', () => {
  it('connects every app over TLS, trusting the CA each Deployment mounts', () => {
    const configMap = manifests.find((manifest) => manifest.kind === 'ConfigMap')!;
    expect(configMap.data!.NATS_URL).toMatch(/^tls:\/\//);
    const caFile = configMap.data!.NATS_TLS_CA_FILE!;
    for (const app of APP_NAMES) {
      const pod = manifests.find((manifest) => manifest.kind === 'Deployment' && manifest.metadata.name === app)!.spec.template.spec;
      const mount = pod.containers[0].volumeMounts.find((entry: { mountPath: string }) => caFile.startsWith(`${entry.mountPath}/`));
      expect([app, pod.volumes.find((volume: { name: string }) => volume.name === mount?.name)?.secret?.secretName]).toEqual([app, 'nats-ca']);
    }
    expect(parse(read('k8s/nats/values.yaml')).config.nats.tls).toEqual({ enabled: true, secretName: 'nats-server-tls' });
    const certificates = parseAllDocuments(read('deploy/cert-manager/nats-tls.yaml')).map((doc) => doc.toJS() as Manifest & { apiVersion: string });
    expect(certificates.find((item) => item.kind === 'Certificate' && item.spec.secretName === 'nats-server-tls')?.spec.dnsNames).toContain('nats.nats.svc');
  });

  it('lets only the api, profile-sync and the dispatcher reach PostgreSQL, every app NATS, and admits only the apps, the agents and the scraper to NATS', () => {
    const policies = manifests.filter((manifest) => manifest.kind === 'NetworkPolicy');
    const postgres = policies.filter((policy) => policy.spec.egress?.some((rule: any) => rule.ports?.some((port: any) => port.port === 5432)));
    expect(postgres.flatMap((policy) => policy.spec.podSelector.matchExpressions.find((expression: any) => expression.key === 'app.kubernetes.io/component').values).sort()).toEqual(['api', 'profile-sync', 'webhook-dispatcher']);
    // Only the dispatcher may go anywhere else.
    const open = policies.filter((policy) => policy.spec.egress?.some((rule: any) => Object.keys(rule).length === 0));
    expect(open.map((policy) => policy.spec.podSelector.matchLabels['app.kubernetes.io/component'])).toEqual(['webhook-dispatcher']);
    const nats = parseAllDocuments(read('k8s/nats/networkpolicy.yaml')).map((doc) => doc.toJS() as Manifest)[0]!;
    const client = nats.spec.ingress.filter((rule: any) => rule.ports.some((port: any) => port.port === 4222));
    expect(client[0].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name']).toBe('event-service');
    expect(nats.spec.ingress.find((rule: any) => rule.ports.some((port: any) => port.port === 8222)).from.map((peer: any) => peer.namespaceSelector.matchLabels['kubernetes.io/metadata.name']).sort()).toEqual(['monitoring']);
  });
});
