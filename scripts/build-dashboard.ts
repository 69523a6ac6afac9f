import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { projectRoot } from './local-stack.js';

/**
 * Bundles the dashboard (apps/dashboard) into dist/dashboard at build time:
 * one script and one stylesheet, named by content hash, the page that loads
 * them, and the manifest the api serves them from. No server of its own.
 */
const root = projectRoot();
const source = join(root, 'apps', 'dashboard');
const out = join(root, 'dist', 'dashboard');
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { dashboard: join(source, 'src', 'main.tsx'), styles: join(source, 'src', 'styles.css') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  entryNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});

const assets = Object.keys(result.metafile.outputs).map((path) => basename(path));
const named = (extension: string): string => assets.find((name) => name.endsWith(extension))!;
const page = readFileSync(join(source, 'index.html'), 'utf8').replace('{{script}}', `/assets/${named('.js')}`).replace('{{styles}}', `/assets/${named('.css')}`);
writeFileSync(join(out, 'index.html'), page);
writeFileSync(join(out, 'manifest.json'), JSON.stringify({ assets }, null, 2));
const bytes = assets.filter((name) => !name.endsWith('.map')).map((name) => `${name} ${(readFileSync(join(out, name)).length / 1024).toFixed(1)} KiB`);
process.stdout.write(`dashboard: ${bytes.join(', ')}\n`);
