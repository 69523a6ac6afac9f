import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeOperatorSetup } from './operator-setup.js';

/**
 * `npm run nats:operator -- --out <dir> [--layout <file>] [--resolver-dir <dir>]`:
 * makes the NATS operator-mode set-up (scripts/operator-setup.ts,
 * docs/operations.md "Agents' NATS credentials") in <dir>.
 */
const USAGE = 'usage: nats-operator --out <dir> [--layout <event-service.conf>] [--resolver-dir <dir>]';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, layout: { type: 'string' }, 'resolver-dir': { type: 'string' } } });
  if (!values.out) throw new Error(USAGE);
  const out = resolve(values.out);
  const setup = await makeOperatorSetup(out, {
    ...(values.layout ? { layout: resolve(values.layout) } : {}),
    ...(values['resolver-dir'] ? { resolverDir: values['resolver-dir'] } : {}),
  });
  process.stdout.write(
    [
      `operator set-up in ${out}:`,
      `  operator.conf     include in nats-server.conf (instead of event-service.conf)`,
      `  creds/            ${[...setup.creds.keys()].filter((user) => user !== 'issuer-system').join(', ')}`,
      `  issuer/           ISSUER_KEYS_DIR of the credentials issuer (signing keys, a system user)`,
      `  keys/             identity keys: keep them offline`,
      '',
    ].join('\n'),
  );
}

await main().catch((error: Error) => {
  process.stderr.write(`nats-operator: ${error.message}\n`);
  process.exitCode = 1;
});
