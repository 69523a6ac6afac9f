import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DeadLetterReason } from '@app/messaging';
import { CloseCode } from '../apps/websocket-gateway/src/close-codes.js';
import { projectRoot } from '../scripts/local-stack.js';
import { filesUnder, projectNames, staleNames, type ProjectNames } from './support/doc-names.js';

/**
 * The docs and the code kept together: a doc that names an npm script, a
 * path, a variable or code, a metric or a GraphQL field the project does not
 * have fails here; so does a variable the apps read, a metric they export or
 * a code they answer with that no doc lists.
 */
const root = projectRoot();
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const docs = ['README.md', 'DEVELOPERS.md', ...filesUnder(root, 'docs', (file) => file.endsWith('.md'))];
const names = projectNames(root);
const allDocs = docs.map(read).join('\n');
/** Whether a doc names it as code (in backquotes, alone or inside a longer span). */
const documented = (text: string, name: string) => new RegExp(`\`[^\`\\n]*(?<![\\w])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w])[^\`\\n]*\``).test(text);

describe('the docs name only what exists', () => {
  it.each(docs)('%s', (doc) => {
    expect(staleNames(doc, read(doc), names)).toEqual([]);
  });

  it('catches a planted stale name of every kind, and passes the names that exist', () => {
    const planted: ProjectNames = {
      scripts: new Set(['test', 'bench']),
      pathExists: (path) => path === 'docs/api.md',
      constants: new Set(['NATS_URL', 'STORE_FULL', '_INGRESS']),
      metrics: new Set(['event_service_events_ingested_total']),
      graphqlFields: new Set(['createApiToken']),
    };
    const doc = [
      'Run `npm run bench`, then `npm run bench:gone`.',
      'See docs/api.md and docs/gone.md, or `apps/ingest/src/<file>.ts`.',
      'Set `NATS_URL` and `NATS_GONE`; ingest answers `STORE_FULL`; the stream is `ES_INGRESS`, not `ES_GONE`.',
      'The metrics `event_service_events_ingested_total` and `event_service_gone_total`.',
      '`mutation { createApiToken(name: "x") { token } }` and `deleteGone(id: 1)`, but `client.start()` is JavaScript.',
      'Plain PROSE_IN_CAPITALS is not a name.',
    ].join('\n');
    expect(staleNames('planted.md', doc, planted)).toEqual([
      { doc: 'planted.md', kind: 'npm script', name: 'bench:gone' },
      { doc: 'planted.md', kind: 'path', name: 'docs/gone.md' },
      { doc: 'planted.md', kind: 'path', name: 'apps/ingest/src' },
      { doc: 'planted.md', kind: 'constant', name: 'NATS_GONE' },
      { doc: 'planted.md', kind: 'constant', name: 'ES_GONE' },
      { doc: 'planted.md', kind: 'metric', name: 'event_service_gone_total' },
      { doc: 'planted.md', kind: 'GraphQL field', name: 'deleteGone' },
    ]);
  });
});

describe('the docs list what the code has', () => {
  it('lists every variable an app reads in docs/configuration.md', () => {
    const configs = ['libs/config/src/fragments.ts', ...filesUnder(root, 'apps', (file) => /\.config\.ts$/.test(file))];
    const variables = new Set(configs.flatMap((file) => [...read(file).matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map(([, name]) => name!)));
    expect(variables.size).toBeGreaterThan(30);
    expect([...variables].filter((variable) => !documented(read('docs/configuration.md'), variable))).toEqual([]);
  });

  it('lists every variable the tests, benchmarks and scripts read', () => {
    const sources = ['scripts', 'bench', 'test'].flatMap((dir) => filesUnder(root, dir, (file) => file.endsWith('.ts')));
    const variables = new Set(sources.flatMap((file) => [...read(file).matchAll(/process\.env\.([A-Z][A-Z0-9_]+)/g)].map(([, name]) => name!)));
    variables.delete('PATH');
    expect([...variables].filter((variable) => !documented(allDocs, variable))).toEqual([]);
  });

  it('lists every metric an app exports in operations.md', () => {
    expect([...names.metrics].filter((metric) => !documented(read('docs/operations.md'), metric))).toEqual([]);
  });

  it('lists every dead-letter code in operations.md, every close code in websocket.md, every API error code in api.md and every ingest answer in event-format.md', () => {
    expect(Object.values(DeadLetterReason).filter((code) => !documented(read('docs/operations.md'), code))).toEqual([]);
    // Close codes are the rows of a table there.
    expect(Object.values(CloseCode).filter((code) => !new RegExp(`^\\| ${code} \\|`, 'm').test(read('docs/websocket.md')))).toEqual([]);
    const apiCodes = /export type ApiErrorCode = ([^;]+);/.exec(read('apps/api/src/graphql/api.error.ts'))![1]!.match(/[A-Z_]+/g)!;
    expect(apiCodes.filter((code) => !documented(read('docs/api.md'), code))).toEqual([]);
    const ingestCodes = /const REJECTION_REASONS[^=]*= \[([^\]]+)\]/.exec(read('apps/ingest/src/ingest.metrics.ts'))![1]!.match(/[A-Z_]+/g)!;
    expect(ingestCodes.filter((code) => !documented(read('docs/event-format.md'), code))).toEqual([]);
  });
});
