import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { APP_NAMES } from '../../scripts/local-stack.js';

/** Codes the docs may name that the project does not spell itself: Apollo Server's own. */
const FOREIGN_CONSTANTS = ['GRAPHQL_VALIDATION_FAILED', 'GRAPHQL_PARSE_FAILED', 'INTERNAL_SERVER_ERROR'];

/**
 * What the docs name, checked against what the project has: the pure part
 * of test/docs.spec.ts, so that its own unit test can feed it a doc with a
 * planted stale name.
 */

/** A doc's name that the project does not have, with where it is. */
export interface StaleName {
  doc: string;
  kind: 'npm script' | 'path' | 'constant' | 'metric' | 'GraphQL field';
  name: string;
}

/** What the project has, as far as its docs may name it. */
export interface ProjectNames {
  scripts: ReadonlySet<string>;
  /** Whether a path (relative to the project's root) exists. */
  pathExists: (path: string) => boolean;
  /** Every upper-case name the code, the deployment files and the schema spell: variables, codes, enum values, stream name parts. */
  constants: ReadonlySet<string>;
  metrics: ReadonlySet<string>;
  graphqlFields: ReadonlySet<string>;
}

const ROOTS = ['apps', 'libs', 'test', 'deploy', 'k8s', 'docs', 'scripts', 'bench', '.ci'];

/** The names a doc uses that the project does not have. */
export function staleNames(doc: string, text: string, names: ProjectNames): StaleName[] {
  const stale: StaleName[] = [];
  const add = (kind: StaleName['kind'], name: string) => {
    if (!stale.some((entry) => entry.kind === kind && entry.name === name)) stale.push({ doc, kind, name });
  };
  for (const [, script] of text.matchAll(/\bnpm run ([a-z][a-z0-9:-]*)/g)) if (!names.scripts.has(script!)) add('npm script', script!);
  // Paths under the project's own folders, written out (no placeholders or globs).
  for (const [, path] of text.matchAll(new RegExp(`(?<![\\w./-])((?:${ROOTS.map((root) => root.replace('.', '\\.')).join('|')})/[A-Za-z0-9_.\\-/]*[A-Za-z0-9_])`, 'g'))) {
    if (!names.pathExists(path!)) add('path', path!);
  }
  // Code spans only: the prose's own capitals are no names.
  for (const [, span] of text.matchAll(/`([^`\n]+)`/g)) {
    for (const [constant] of span!.matchAll(/(?<![\w$.-])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?![\w-])/g)) {
      if (!knownConstant(constant, names.constants)) add('constant', constant);
    }
    for (const [metric] of span!.matchAll(/\bevent_service_[a-z_]+[a-z]/g)) {
      if (!names.metrics.has(metric.replace(/_(bucket|sum|count)$/, '')) && !names.metrics.has(metric)) add('metric', metric);
    }
    // A GraphQL operation: `name(…)` or `mutation { name(…) }`, not a method of a JavaScript object.
    for (const [, field] of span!.matchAll(/(?<![\w.$])([a-z][A-Za-z]+)\(/g)) {
      if (!names.graphqlFields.has(field!) && /^(create|update|delete|rotate|revoke|resume|pause|send|resend|replay|set|move|apiTokens|endpoints|eventsFilters|lostEvents|deliveryAttempts|webhookSecret)/.test(field!)) {
        add('GraphQL field', field!);
      }
    }
  }
  return stale;
}

/** A constant the project has; stream and bucket names are built from the prefix (`ES_INGRESS` from `_INGRESS`). */
function knownConstant(name: string, constants: ReadonlySet<string>): boolean {
  if (constants.has(name)) return true;
  const built = /^(?:ES|KV_ES|OBJ_ES|<P>)(_[A-Z_]+)$/.exec(name);
  return built !== null && [...constants].some((known) => known.endsWith(built[1]!) || known === built[1]!.slice(1));
}

/** Every file under `dir` (relative to `root`) whose name passes `wanted`, outside dist, node_modules and screenshots. */
export function filesUnder(root: string, dir: string, wanted: (file: string) => boolean): string[] {
  const path = join(root, dir);
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return wanted(dir) ? [dir] : [];
  return readdirSync(path).flatMap((name) => (['node_modules', 'dist', 'screenshots'].includes(name) ? [] : filesUnder(root, relative(root, join(path, name)), wanted)));
}

/** What the project at `root` has, read from its code, its deployment files and its schema. */
export function projectNames(root: string): ProjectNames {
  const read = (file: string) => readFileSync(join(root, file), 'utf8');
  const code = [
    ...['apps', 'libs', 'scripts', 'bench', 'test/support', 'deploy', 'k8s'].flatMap((dir) => filesUnder(root, dir, (file) => /\.(ts|tsx|js|ya?ml|conf|sh|json|graphql)$/.test(file))),
    'docker-compose.yml',
    'Dockerfile',
    'package.json',
    '.ci/run',
  ].map(read);
  const constants = new Set<string>(FOREIGN_CONSTANTS);
  for (const text of code) for (const [constant] of text.matchAll(/[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+/g)) constants.add(constant);
  // Built from an app's name (scripts/start.ts): API_HEALTH_PORT, FILTER_ROUTER_HEALTH_PORT, …
  for (const app of APP_NAMES) constants.add(`${app.toUpperCase().replaceAll('-', '_')}_HEALTH_PORT`);
  const metrics = new Set<string>();
  for (const text of code) for (const [, metric] of text.matchAll(/'(event_service_[a-z_]+)'/g)) metrics.add(metric!);
  // Made by a command of the project's and ignored by git (deploy/nats/tls): named, never committed.
  const generated = read('.gitignore').split('\n').filter((line) => line.endsWith('/') && line.includes('/') && !line.startsWith('#')).map((line) => line.slice(0, -1));
  const schema = read('apps/api/schema.graphql');
  const graphqlFields = new Set([...schema.matchAll(/^\s+([a-z][A-Za-z]+)[(:]/gm)].map(([, field]) => field!));
  const scripts = new Set(Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts));
  const pathExists = (path: string) => existsSync(join(root, path)) || generated.some((dir) => path === dir || path.startsWith(`${dir}/`));
  return { scripts, pathExists, constants, metrics, graphqlFields };
}
