import { reportChaos } from '../test/support/chaos.js';
import { runScaledChaos } from '../test/support/chaos-scaled.js';

/**
 * `npm run chaos:scaled`: the chaos run at scale (docs/reliability.md) —
 * three replicas of each data-path app on a three-node JetStream cluster
 * with NATS_REPLICAS=3, while it kills a replica of each app and the
 * events stream's leader, adds replicas and stops others. Prints the
 * partition handovers and the table; exits non-zero on any lost event,
 * duplicates beyond work in flight at a kill, any camera's events out of
 * order, or any dead letter. CHAOS_SHORT=1 runs the short version the long
 * test tier runs.
 */
const short = process.env.CHAOS_SHORT === '1';
const result = await runScaledChaos({
  ratePerSecond: Number(process.env.CHAOS_RATE ?? 20),
  downMs: short ? 3_000 : 15_000,
  calmMs: short ? 3_000 : 10_000,
  settleTimeoutMs: short ? 120_000 : 300_000,
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
process.stdout.write(`\npartition handovers:\n${result.handovers.map((line) => `  ${line}`).join('\n')}\n`);
reportChaos(result, 'nothing lost, nothing repeated beyond work in flight at a kill, every camera in order, no dead letter');
