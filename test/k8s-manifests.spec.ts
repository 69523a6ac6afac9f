import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import * as coreV1 from 'kubernetes-models/v1';
import * as appsV1 from 'kubernetes-models/apps/v1';
import * as autoscalingV2 from 'kubernetes-models/autoscaling/v2';
import * as batchV1 from 'kubernetes-models/batch/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as networkingV1 from 'kubernetes-models/networking.k8s.io/v1';
import * as kedaV1alpha1 from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { loadConfig, natsEnv } from '@app/config';
import { z } from 'zod';
import { loadIngestConfig } from '../apps/ingest/src/ingest.config.js';
import { loadDispatcherConfig } from '../apps/webhook-dispatcher/src/dispatcher.config.js';
import { loadGatewayConfig } from '../apps/websocket-gateway/src/gateway.config.js';
import { DATABASE_APPS, roleOf } from '@app/persistence';
import { APP_NAMES, projectRoot } from '../scripts/local-stack.js';

/**
 * Every manifest under k8s/ and of its KEDA overlay deploy/keda/, validated
 * against the Kubernetes (and KEDA) API schemas of the `kubernetes-models`
 * packages, and what the deployment needs of them: resources, probes, a grace
 * period covering each app's drain, the autoscalers, the gateway's disruption
 * budget, and an Ingress that lets through what ingest accepts. No cluster
 * here, so this is what catches a manifest a cluster would refuse. (The
 * schemas check types, required fields and enums, not unknown fields: a
 * misspelt field passes them, which is why the fields that matter are checked
 * by name below.) Both kustomizations are also built with `kubectl kustomize`,
 * as `kubectl apply -k` would build them.
 */
const root = projectRoot();
const k8s = join(root, 'k8s');
const keda = join(root, 'deploy/keda');
const read = (path: string) => readFileSync(path, 'utf8');

interface Validatable {
  validate(): void;
}
type ModelClass = { apiVersion: string; kind: string; new (data: object): Validatable };

/** The API objects k8s/ may hold, by `apiVersion/kind`: the core, apps, autoscaling, batch, policy and networking groups, and KEDA's. */
const MODELS = new Map<string, ModelClass>(
  [coreV1, appsV1, autoscalingV2, batchV1, policyV1, networkingV1, kedaV1alpha1]
    .flatMap((module) => Object.values(module) as unknown[])
    .filter((value): value is ModelClass => typeof value === 'function' && typeof (value as Partial<ModelClass>).kind === 'string' && typeof (value as Partial<ModelClass>).apiVersion === 'string')
    .map((model) => [`${model.apiVersion}/${model.kind}`, model]),
);

/** Validates one YAML document against its kind's schema; throws for a kind it does not know. */
function validateManifest(document: { apiVersion?: unknown; kind?: unknown; [field: string]: unknown }): void {
  const model = MODELS.get(`${String(document.apiVersion)}/${String(document.kind)}`);
  if (!model) throw new Error(`unknown kind ${String(document.kind)} of ${String(document.apiVersion)}`);
  new model(document).validate();
}

/** Files that are not Kubernetes objects: the Helm chart's values and kustomize's own files. */
const isHelmValues = (file: string) => /^values(-[a-z-]+)?\.yaml$/.test(file.split('/').pop()!) && file.startsWith('nats/');
const isKustomization = (file: string) => file.endsWith('kustomization.yaml');

/** The YAML files under a directory, relative to `base`. */
function yamlFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return yamlFiles(path, base);
    return name.endsWith('.yaml') ? [relative(base, path)] : [];
  });
}

const files = yamlFiles(k8s);
const kedaFiles = yamlFiles(keda);
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; spec?: any; data?: Record<string, string> };
const manifestsOf = (dir: string, file: string) => parseAllDocuments(read(join(dir, file))).map((doc) => ({ file, manifest: doc.toJS() as Manifest }));
const documents: Array<{ file: string; manifest: Manifest }> = files.filter((file) => !isHelmValues(file) && !isKustomization(file)).flatMap((file) => manifestsOf(k8s, file));
/** The overlay's own objects (deploy/keda/), the base's come from k8s/. */
const kedaDocuments = kedaFiles.filter((file) => !isKustomization(file)).flatMap((file) => manifestsOf(keda, file));

/** The objects `kubectl apply -k k8s/` applies (top level, without the secret examples). */
const applied = documents.filter(({ file }) => !file.includes('/') && file !== 'secret.example.yaml').map(({ manifest }) => manifest);
const find = (kind: string, name: string) => applied.find((manifest) => manifest.kind === kind && manifest.metadata.name === name);
const configMap = find('ConfigMap', 'event-service')!;

/** An app's environment as its Deployment gives it (ConfigMap, then its own values); secrets aside, in development mode. */
function environmentOf(app: string): NodeJS.ProcessEnv {
  const container = find('Deployment', app)!.spec.template.spec.containers[0];
  const own = Object.fromEntries((container.env as Array<{ name: string; value?: string }>).filter((entry) => entry.value !== undefined).map((entry) => [entry.name, entry.value]));
  return { ...configMap.data, ...own, NODE_ENV: 'development' };
}

/** A Kubernetes quantity in base units (cores, bytes). */
function quantity(text: string | number): number {
  const match = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G)?$/.exec(String(text));
  if (!match) throw new Error(`not a quantity: ${text}`);
  const factor = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9 }[match[2] ?? ''] ?? 1;
  return Number(match[1]) * factor;
}

/** The apps whose replicas may scale out: every one (profile-sync too: it reads the events stream in partitions). */
const SCALABLE = APP_NAMES;

describe('k8s/ and deploy/keda/ manifests', () => {
  it('finds the manifests, the kustomizations and the NATS Helm values', () => {
    expect(documents.length).toBeGreaterThan(10);
    expect(kedaDocuments.length).toBe(4);
    expect(files.filter(isKustomization)).toEqual(['kustomization.yaml']);
    expect(kedaFiles.filter(isKustomization)).toEqual(['kustomization.yaml']);
    expect(files.filter(isHelmValues).sort()).toEqual(['nats/values-cluster.yaml', 'nats/values.yaml']);
  });

  it.each([...documents.map(({ file, manifest }) => ({ file: `k8s/${file}`, manifest })), ...kedaDocuments.map(({ file, manifest }) => ({ file: `deploy/keda/${file}`, manifest }))].map(
    ({ file, manifest }) => [`${file}: ${manifest.kind} ${manifest.metadata?.name}`, manifest] as const,
  ))('%s is valid against its API schema', (_name, manifest) => {
    expect(() => validateManifest(manifest)).not.toThrow();
  });

  it('refuses a kind it has no schema for, and an object its schema refuses', () => {
    expect(() => validateManifest({ apiVersion: 'example.com/v1', kind: 'Widget' })).toThrow(/unknown kind Widget/);
    expect(() => validateManifest({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two' } })).toThrow(/replicas/);
  });

  it.each([join(k8s, 'kustomization.yaml'), join(keda, 'kustomization.yaml')].map((path) => relative(root, path)))('%s lists every manifest beside it, and only files that exist', (file) => {
    const dir = dirname(join(root, file));
    const kustomization = parse(read(join(root, file))) as { resources: string[] };
    const beside = readdirSync(dir).filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml' && name !== 'secret.example.yaml');
    expect(kustomization.resources.filter((resource) => resource.endsWith('.yaml')).sort()).toEqual(beside.sort());
    for (const resource of kustomization.resources) expect([resource, statSync(join(dir, resource), { throwIfNoEntry: false }) !== undefined]).toEqual([resource, true]);
  });
});

describe('k8s/ deployments', () => {
  it.each(APP_NAMES)('%s has CPU and memory requests and limits, limits at least the requests', (app) => {
    const { requests, limits } = find('Deployment', app)!.spec.template.spec.containers[0].resources;
    for (const resource of ['cpu', 'memory']) {
      expect([resource, typeof requests?.[resource], typeof limits?.[resource]]).toEqual([resource, 'string', 'string']);
      expect(quantity(limits[resource])).toBeGreaterThanOrEqual(quantity(requests[resource]));
    }
  });

  it.each(APP_NAMES)('%s is alive on /healthz and ready on /readyz of its health port, the one HEALTH_PORT sets', (app) => {
    const container = find('Deployment', app)!.spec.template.spec.containers[0];
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
    expect(container.ports).toContainEqual({ name: 'health', containerPort: Number(configMap.data!.HEALTH_PORT) });
  });

  it("gives the gateway time to drain its clients (WS_DRAIN_GRACE), and the dispatcher time to finish an attempt (WEBHOOK_TIMEOUT), before the kill", () => {
    const graceMs = (app: string) => find('Deployment', app)!.spec.template.spec.terminationGracePeriodSeconds * 1000;
    // Beyond the drain itself: the delivery feed's stop, the outcomes' last batch and the NATS drain.
    expect(graceMs('websocket-gateway')).toBeGreaterThanOrEqual(loadGatewayConfig(environmentOf('websocket-gateway')).WS_DRAIN_GRACE + 15_000);
    expect(graceMs('webhook-dispatcher')).toBeGreaterThanOrEqual(loadDispatcherConfig(environmentOf('webhook-dispatcher')).WEBHOOK_TIMEOUT + 15_000);
    for (const app of APP_NAMES) expect([app, graceMs(app) >= 30_000]).toEqual([app, true]);
  });

  it('migrates in a Job as the database owner, and runs each app that uses PostgreSQL as its own role, never the owner', () => {
    const job = find('Job', 'migrate')!.spec.template.spec.containers[0];
    expect(job.command).toEqual(['node', 'dist/scripts/migrate.js']);
    const secretKeyOf = (env: Array<{ name: string; valueFrom?: { secretKeyRef?: { key: string } } }>, name: string) => env.find((entry) => entry.name === name)?.valueFrom?.secretKeyRef?.key;
    expect(secretKeyOf(job.env, 'DATABASE_URL')).toBe('DATABASE_URL');
    for (const app of DATABASE_APPS) {
      const password = `${app.toUpperCase().replaceAll('-', '_')}_DATABASE_PASSWORD`;
      expect(secretKeyOf(job.env, password)).toBe(password);
      const env = find('Deployment', app)!.spec.template.spec.containers[0].env;
      const url = env.find((entry: { name: string }) => entry.name === 'DATABASE_URL');
      expect([app, new URL(url.value).username]).toEqual([app, roleOf('event_service', app)]);
      expect([app, secretKeyOf(env, 'DATABASE_PASSWORD')]).toEqual([app, password]);
    }
    for (const app of APP_NAMES) {
      const keys = find('Deployment', app)!.spec.template.spec.containers[0].env.map((entry: { valueFrom?: { secretKeyRef?: { key: string } } }) => entry.valueFrom?.secretKeyRef?.key);
      expect([app, keys.includes('DATABASE_URL')]).toEqual([app, false]);
    }
  });

  it('autoscales every app, profile-sync included', () => {
    for (const app of SCALABLE) {
      const autoscaler = find('HorizontalPodAutoscaler', app);
      expect([app, autoscaler?.spec.scaleTargetRef]).toEqual([app, { apiVersion: 'apps/v1', kind: 'Deployment', name: app }]);
      expect(autoscaler!.spec.minReplicas).toBeGreaterThanOrEqual(2);
      expect(autoscaler!.spec.maxReplicas).toBeGreaterThan(autoscaler!.spec.minReplicas);
      // The autoscaler owns the count: a replicas field would be reset by every apply.
      expect([app, find('Deployment', app)!.spec.replicas]).toEqual([app, undefined]);
    }
    expect(applied.filter((manifest) => manifest.kind === 'HorizontalPodAutoscaler').map((manifest) => manifest.spec.scaleTargetRef.name).sort()).toEqual([...SCALABLE].sort());
  });

  it('requests the CPU and targets the utilisation the Sizing section of docs/operations.md plans with', () => {
    const sizing = /^## Sizing\n([\s\S]*?)^## /m.exec(read(join(root, 'docs/operations.md')))?.[1] ?? '';
    // A replica at its request is a replica at its plan figure; the autoscalers add one at 70% of it.
    const planned = { request: /request `cpu: (\d+m)`/.exec(sizing)?.[1], apiRequest: /The api requests `(\d+m)`/.exec(sizing)?.[1], target: Number(/target (\d+)% of the request/.exec(sizing)?.[1]) };
    expect(planned).toEqual({ request: '500m', apiRequest: '250m', target: 70 });
    for (const app of APP_NAMES) {
      const request = find('Deployment', app)!.spec.template.spec.containers[0].resources.requests.cpu as string;
      expect([app, request]).toEqual([app, app === 'api' ? planned.apiRequest : planned.request]);
    }
    for (const autoscaler of applied.filter((manifest) => manifest.kind === 'HorizontalPodAutoscaler')) {
      expect([autoscaler.metadata.name, autoscaler.spec.metrics]).toEqual([autoscaler.metadata.name, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: planned.target } } }]]);
    }
    for (const { manifest } of kedaDocuments) {
      const cpu = manifest.spec.triggers.find((trigger: { type: string }) => trigger.type === 'cpu');
      expect([manifest.metadata.name, cpu?.metadata.value]).toEqual([manifest.metadata.name, String(planned.target)]);
    }
  });

  it('lets voluntary disruptions take one gateway replica at a time', () => {
    const budget = find('PodDisruptionBudget', 'websocket-gateway')!;
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(budget.spec.selector.matchLabels).toEqual(find('Deployment', 'websocket-gateway')!.spec.template.metadata.labels);
  });

  it("passes the bodies ingest accepts and keeps quiet websocket clients connected", () => {
    const ingress = applied.find((manifest) => manifest.kind === 'Ingress')!;
    const annotations = ingress.metadata as unknown as { annotations: Record<string, string> };
    const bodySize = /^(\d+)m$/.exec(annotations.annotations['nginx.ingress.kubernetes.io/proxy-body-size']!);
    expect(Number(bodySize?.[1]) * 1024 * 1024).toBe(loadIngestConfig(environmentOf('ingest')).INGEST_MAX_BODY_BYTES);
    const pingSeconds = loadGatewayConfig(environmentOf('websocket-gateway')).WS_PING_INTERVAL / 1000;
    for (const timeout of ['proxy-read-timeout', 'proxy-send-timeout']) {
      expect(Number(annotations.annotations[`nginx.ingress.kubernetes.io/${timeout}`])).toBeGreaterThanOrEqual(10 * pingSeconds);
    }
  });

  it('sets NATS_REPLICAS to a count the apps accept, and no more than the NATS cluster values run', () => {
    expect(loadConfig(z.object(natsEnv), configMap.data!).NATS_REPLICAS).toBe(1);
    const cluster = parse(read(join(k8s, 'nats/values-cluster.yaml'))) as { config: { cluster: { enabled: boolean; replicas: number } } };
    expect(cluster.config.cluster).toEqual({ enabled: true, replicas: 3 });
    expect(loadConfig(z.object(natsEnv), { NATS_REPLICAS: String(cluster.config.cluster.replicas) }).NATS_REPLICAS).toBe(3);
    // KEDA reads consumer lag from the monitoring port, which values.yaml puts on the Service.
    const values = parse(read(join(k8s, 'nats/values.yaml'))) as { config: { monitor: { enabled: boolean } }; service: { ports: { monitor: { enabled: boolean } } } };
    expect([values.config.monitor.enabled, values.service.ports.monitor.enabled]).toEqual([true, true]);
  });
});

describe('deploy/keda/', () => {
  const scaledObjects = kedaDocuments.filter(({ manifest }) => manifest.kind === 'ScaledObject');
  /** The apps that read in partitions, scaled on the lag their replicas report (named as the app). */
  const partitioned = ['ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher'];

  it('scales the apps that read in partitions on the lag their replicas report, and on CPU', () => {
    expect(scaledObjects.map(({ manifest }) => manifest.metadata.name).sort()).toEqual([...partitioned].sort());
    for (const { manifest } of scaledObjects) {
      const app = manifest.spec.scaleTargetRef.name as string;
      expect(find('Deployment', app)).toBeDefined();
      const lag = manifest.spec.triggers.find((trigger: { type: string }) => trigger.type === 'prometheus');
      expect([app, lag?.metadata.query]).toEqual([app, `max(event_service_consumer_pending_messages{consumer="${app}"})`]);
      expect(manifest.spec.triggers.map((trigger: { type: string }) => trigger.type)).toContain('cpu');
      expect(manifest.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    }
  });

  it('is not applied by default, and replaces the CPU autoscalers of the apps it scales (two must not target one Deployment)', () => {
    const base = parse(read(join(k8s, 'kustomization.yaml'))) as { namespace: string; resources: string[] };
    expect(base.resources.some((resource) => resource.includes('keda'))).toBe(false);
    const overlay = parse(read(join(keda, 'kustomization.yaml'))) as { namespace: string; resources: string[]; patches: Array<{ patch: string }> };
    expect(overlay.resources).toEqual(['../../k8s', 'scaled-objects.yaml']);
    expect(overlay.namespace).toBe(base.namespace);
    const deleted = overlay.patches.map(({ patch }) => parse(patch) as { $patch: string; kind: string; metadata: { name: string } });
    expect(deleted.every((patch) => patch.$patch === 'delete' && patch.kind === 'HorizontalPodAutoscaler')).toBe(true);
    expect(deleted.map((patch) => patch.metadata.name).sort()).toEqual(scaledObjects.map(({ manifest }) => manifest.spec.scaleTargetRef.name).sort());
  });
});

describe('kubectl kustomize k8s/ and deploy/keda/ (what kubectl apply -k applies)', () => {
  const kubectl = spawnSync('kubectl', ['version', '--client']).status === 0;
  const missing = 'kubectl is required to build the kustomizations; it is not in Debian\'s repositories: install it from https://kubernetes.io/docs/tasks/tools/';
  const builds = new Map<string, Manifest[]>();
  /** The objects one kustomization builds to (built once); throws with kubectl's own message when the build fails. */
  function build(dir: 'k8s' | 'deploy/keda'): Manifest[] {
    if (!kubectl) throw new Error(missing);
    if (!builds.has(dir)) {
      const run = spawnSync('kubectl', ['kustomize', dir], { cwd: root, encoding: 'utf8' });
      if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr.trim()}`);
      builds.set(dir, parseAllDocuments(run.stdout).map((doc) => doc.toJS() as Manifest));
    }
    return builds.get(dir)!;
  }
  /** The kinds that are not namespaced, of those the builds hold. */
  const CLUSTER_SCOPED = new Set(['Namespace']);

  it('is installed: kubectl (.ci/run stops when it is missing)', () => {
    expect(kubectl ? 'installed' : missing).toBe('installed');
  });

  it.each(['k8s', 'deploy/keda'] as const)('%s builds, every namespaced object in namespace event-service', (dir) => {
    const objects = build(dir);
    expect(objects.length).toBeGreaterThan(10);
    const outside = objects.filter((object) => !CLUSTER_SCOPED.has(object.kind) && object.metadata.namespace !== 'event-service');
    expect(outside.map((object) => `${object.kind} ${object.metadata.name} in ${object.metadata.namespace}`)).toEqual([]);
  });

  it.each(['k8s', 'deploy/keda'] as const)('%s gives each Deployment at most one autoscaler, and every autoscaler a Deployment of the build', (dir) => {
    const objects = build(dir);
    const deployments = new Set(objects.filter((object) => object.kind === 'Deployment').map((object) => object.metadata.name));
    const targets = objects
      .filter((object) => object.kind === 'HorizontalPodAutoscaler' || object.kind === 'ScaledObject')
      .map((object) => ({ autoscaler: `${object.kind} ${object.metadata.name}`, kind: object.spec.scaleTargetRef.kind ?? 'Deployment', name: object.spec.scaleTargetRef.name as string }));
    expect(targets.filter((target) => target.kind !== 'Deployment' || !deployments.has(target.name))).toEqual([]);
    const names = targets.map((target) => target.name);
    expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
  });

  it('deploy/keda has ScaledObjects, not HPAs, for ingest, profile-sync, filter-router and webhook-dispatcher; k8s/ has no ScaledObject', () => {
    const kedaBuild = build('deploy/keda');
    const byKind = (objects: Manifest[], kind: string) => objects.filter((object) => object.kind === kind).map((object) => object.spec.scaleTargetRef.name as string).sort();
    expect(byKind(kedaBuild, 'ScaledObject')).toEqual(['filter-router', 'ingest', 'profile-sync', 'webhook-dispatcher']);
    expect(byKind(kedaBuild, 'HorizontalPodAutoscaler')).toEqual(['api', 'websocket-gateway']);
    expect(byKind(build('k8s'), 'ScaledObject')).toEqual([]);
  });
});
