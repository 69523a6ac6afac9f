import { reportChaos, runChaos } from '../test/support/chaos.js';

/**
 * `npm run chaos`: the chaos suite at full length (docs/reliability.md). Each
 * fault in turn while events flow; prints the table and exits non-zero on any
 * lost webhook event, on duplicates beyond work in flight at a kill, and on
 * any event lost by a websocket client that stayed connected.
 * CHAOS_SHORT=1 runs the short version the test suite runs.
 */
const short = process.env.CHAOS_SHORT === '1';
const result = await runChaos({
  ratePerSecond: Number(process.env.CHAOS_RATE ?? 20),
  killDownMs: short ? 2_000 : 10_000,
  natsDownMs: short ? 3_000 : 15_000,
  postgresCutMs: short ? 60_000 : 300_000,
  receiverFaultMs: short ? 4_000 : 30_000,
  calmMs: short ? 2_000 : 5_000,
  settleTimeoutMs: short ? 90_000 : 300_000,
  log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
});
reportChaos(result, 'no webhook event lost, no duplicate beyond work in flight at a kill, nothing lost by the websocket client, which resumes');
