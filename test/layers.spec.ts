import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { DATABASE_APPS, TABLE_GRANTS } from '@app/persistence';
import { projectRoot } from '../scripts/local-stack.js';
import { filesUnder } from './support/doc-names.js';

/**
 * Which library may import which, read from the code's imports: the domain's
 * words below everything, messaging (the transport) and persistence (the
 * database) beside each other on top of it, never one on the other.
 */
const root = projectRoot();
const importsOf = (lib: string) =>
  new Set(
    filesUnder(root, `libs/${lib}/src`, (file) => file.endsWith('.ts')).flatMap((file) =>
      [...readFileSync(join(root, file), 'utf8').matchAll(/from '@app\/([a-z-]+)'/g)].map(([, imported]) => imported!),
    ),
  );

describe('the libraries’ layers', () => {
  it('keeps the domain library free of every other library', () => {
    expect([...importsOf('domain')]).toEqual([]);
  });

  it('lets messaging and persistence use the domain library, never each other', () => {
    expect(importsOf('messaging').has('persistence')).toBe(false);
    expect(importsOf('persistence').has('messaging')).toBe(false);
    expect(importsOf('messaging').has('domain')).toBe(true);
    expect(importsOf('persistence').has('domain')).toBe(true);
  });
});

/** Every TypeScript source file of the apps and libraries (specs left out), with its text. */
const sources = () =>
  ['apps', 'libs'].flatMap((top) =>
    filesUnder(root, top, (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts') && !file.includes('/migrations/')).map((file) => ({
      file,
      text: readFileSync(join(root, file), 'utf8'),
    })),
  );

describe('one writer of the webhook ledger and its change log', () => {
  /**
   * The files that write each table: raw SQL, the prune helper, a TypeORM
   * repository or manager write of its entity, or a file that takes the
   * entity's repository and writes through a repository (over-counting rather
   * than missing a writer).
   */
  function writersOfTables(): Map<string, string[]> {
    const all = sources();
    const tables = new Map<string, string>();
    for (const { text } of all.filter(({ file }) => file.startsWith('libs/persistence/src/'))) {
      for (const [, table, entity] of text.matchAll(/@Entity\(\{ name: '([a-z_]+)' \}\)[\s\S]*?export class (\w+)/g)) tables.set(table!, entity!);
    }
    const writers = new Map<string, string[]>();
    for (const [table, entity] of tables) {
      const patterns = [
        new RegExp(`\\b(INSERT INTO|UPDATE|DELETE FROM)\\s+${table}\\b`),
        new RegExp(`deleteOlderThan\\([^)]*'${table}'`),
        new RegExp(`getRepository\\(${entity}\\)\\s*\\.(save|insert|update|delete|remove|upsert|softDelete)\\(`),
        new RegExp(`\\.(save|insert|update|delete|remove|upsert)\\(${entity}\\b`),
      ];
      const takesRepository = new RegExp(`getRepository\\(${entity}\\)`);
      const writesThroughRepository = /\b(repository|repo)\.(save|insert|update|delete|remove|upsert)\(/;
      const writes = (text: string) => patterns.some((pattern) => pattern.test(text)) || (takesRepository.test(text) && writesThroughRepository.test(text));
      writers.set(table, all.filter(({ text }) => writes(text)).map(({ file }) => file));
    }
    return writers;
  }

  it('writes the ledger (delivery_retry, delivery_attempt) from its store alone, and every other table from one app', () => {
    const writers = writersOfTables();
    expect([...writers.keys()].sort()).toEqual(['agent', 'api_token', 'dead_letter', 'delivery_attempt', 'delivery_retry', 'endpoint', 'event_filter', 'lost_event', 'profile', 'replay_job', 'replay_progress']);
    expect(writers.get('delivery_retry')).toEqual(['apps/webhook-dispatcher/src/delivery-store.ts']);
    expect(writers.get('delivery_attempt')).toEqual(['apps/webhook-dispatcher/src/delivery-store.ts']);
    expect(writers.get('dead_letter')).toEqual(['apps/webhook-dispatcher/src/dead-letter-store.ts']);
    expect(writers.get('replay_progress')).toEqual(['apps/webhook-dispatcher/src/replays/replay-store.ts']);
    expect(writers.get('replay_job')).toEqual(['apps/api/src/replays/cancel-replay.usecase.ts', 'apps/api/src/replays/start-replay.usecase.ts']);
    const appOf = (file: string) => file.split('/').slice(0, 2).join('/');
    const owners: Record<string, string> = { agent: 'apps/api', endpoint: 'apps/api', event_filter: 'apps/api', api_token: 'apps/api', profile: 'apps/profile-sync', lost_event: 'apps/profile-sync' };
    for (const [table, owner] of Object.entries(owners)) {
      expect({ table, apps: [...new Set(writers.get(table)!.map(appOf))].filter((app) => app !== owner) }).toEqual({ table, apps: [] });
    }
  });

  it('grants each app’s database role writes on exactly the tables its code writes', () => {
    const writers = writersOfTables();
    for (const [table, files] of writers) {
      const writing = [...new Set(files.map((file) => file.split('/')[1]))].sort();
      const granted = DATABASE_APPS.filter((app) => TABLE_GRANTS[app].writes.includes(table)).sort();
      expect({ table, granted }).toEqual({ table, granted: writing });
    }
  });

  it('publishes the delivery change log from the dispatcher’s recorder alone (the api sends deliveries, not changes)', () => {
    // The apps that name the change log's subject: the recorder, which publishes it, and the projector's consumer, which reads it.
    const naming = sources().filter(({ file, text }) => file.startsWith('apps/') && /\.deliveryChanges\b/.test(text));
    expect(naming.map(({ file }) => file).sort()).toEqual(['apps/webhook-dispatcher/src/delivery-changes.consumer.ts', 'apps/webhook-dispatcher/src/delivery-recorder.ts']);
    expect(naming.filter(({ text }) => /publish/.test(text)).map(({ file }) => file)).toEqual(['apps/webhook-dispatcher/src/delivery-recorder.ts']);
    // Nothing outside the dispatcher encodes change records.
    expect(sources().filter(({ text }) => /\bencodeChanges\(/.test(text)).map(({ file }) => file)).toEqual(['libs/messaging/src/delivery-change.ts']);
  });

  it('keeps the transitions of a webhook delivery in one file', () => {
    // The states are named in one place; the consumer and the scheduler only take a step through DeliveryFlow.
    const defining = sources().filter(({ text }) => /export const DeliveryState\b/.test(text));
    expect(defining.map(({ file }) => file)).toEqual(['apps/webhook-dispatcher/src/delivery-transitions.ts']);
    const callers = sources().filter(({ text }) => /\bflow\.advance\(/.test(text)).map(({ file }) => file).sort();
    expect(callers).toEqual(['apps/webhook-dispatcher/src/retry-scheduler.ts', 'apps/webhook-dispatcher/src/webhook-deliveries.consumer.ts']);
  });
});
