import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
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
