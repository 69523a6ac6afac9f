import { describe, expect, it } from '@jest/globals';
import { formatRows, runChaos } from './support/chaos.js';

/**
 * The chaos suite's short run (`npm run chaos` is the long one): each fault
 * once while events flow — a SIGKILL of every app, a NATS restart, a 60 s
 * PostgreSQL cut, and receivers answering 500, timing out, resetting,
 * answering 429 and 410.
 */
describe('chaos, short run', () => {
  it('loses no webhook event and repeats only work in flight at a kill, through every fault', async () => {
    const lines: string[] = [];
    const result = await runChaos({
      ratePerSecond: 10,
      killDownMs: 2_000,
      natsDownMs: 3_000,
      postgresCutMs: 60_000,
      receiverFaultMs: 4_000,
      calmMs: 2_000,
      settleTimeoutMs: 90_000,
      log: (line) => lines.push(line),
    });
    process.stdout.write(`${formatRows(result.rows)}\n`);
    expect(result.failures).toEqual([]);
    // Every fault's events were counted: the run is not vacuous.
    for (const row of result.rows.filter((entry) => entry.endpoint === 'webhook')) expect(row.expected).toBeGreaterThan(0);
  }, 600_000);
});
