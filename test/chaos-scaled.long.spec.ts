import { describe, expect, it } from '@jest/globals';
import { formatRows } from './support/chaos.js';
import { runScaledChaos } from './support/chaos-scaled.js';

/**
 * The chaos run at scale, short (`npm run chaos:scaled` is the long one):
 * three replicas of each data-path app on a three-node JetStream cluster,
 * one replica of each killed, the events stream's leader killed, replicas
 * added and stopped while events flow.
 */
describe('chaos at scale, short run', () => {
  it('loses nothing, keeps each camera in order and hands partitions over, through every fault', async () => {
    const result = await runScaledChaos({ ratePerSecond: 15, downMs: 3_000, calmMs: 3_000, settleTimeoutMs: 120_000, log: (line) => process.stdout.write(`${line}\n`) });
    process.stdout.write(`${result.handovers.length} partition handovers logged\n${formatRows(result.rows)}\n`);
    expect(result.failures).toEqual([]);
    // Partitions moved while events flowed: taken from the stopped and killed replicas, and given to the added ones.
    expect(result.handovers.filter((line) => / handed partition /.test(line)).length).toBeGreaterThan(0);
    for (const row of result.rows.filter((entry) => entry.endpoint === 'webhook')) expect(row.expected).toBeGreaterThan(0);
  }, 900_000);
});
