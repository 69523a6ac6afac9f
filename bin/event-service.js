#!/usr/bin/env node
// `npx event-service <command>`: the CLI, from the build (npm run build; npm start builds too).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'scripts', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('event-service: the CLI is not built yet: run npm run build (npm start builds it too)\n');
  process.exit(1);
}
await import(pathToFileURL(main).href);
