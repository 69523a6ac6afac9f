import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Leases, NatsClient } from '@app/messaging';
import { NATS_URL } from './support/stack.js';
import { waitFor } from './support/wait.js';

// Renewals every third of it must land within two thirds of it: long enough for a machine loaded by the other suites.
const TTL_MS = 1_500;

/** The lease primitive replay jobs run under (and partitions will), against the real NATS: one holder at a time, taken over once abandoned. */
describe('leases', () => {
  let client: NatsClient;

  beforeAll(async () => {
    client = await NatsClient.connect({ url: NATS_URL, prefix: `l${randomBytes(4).toString('hex')}`, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 60_000, connectionName: 'leases-test' });
  });

  afterAll(async () => {
    await client.manager.streams.delete(`KV_${client.topology.leasesBucket}`).catch(() => undefined);
    await client.close();
  });

  it('gives a lease to one process at a time; another takes it only once its holder stopped renewing it for a whole TTL', async () => {
    const [first, second] = await Promise.all([Leases.open(client, 'first', TTL_MS), Leases.open(client, 'second', TTL_MS)]);
    const held = await first.tryAcquire('job.a');
    expect(held).not.toBeNull();
    expect(await second.tryAcquire('job.a')).toBeNull();

    // Renewed while it lives: however long the other waits, it is not taken.
    const renewedFor = Date.now() + 3 * TTL_MS;
    await waitFor(async () => {
      expect(await second.tryAcquire('job.a')).toBeNull();
      return Date.now() > renewedFor;
    }, { what: 'three TTLs of renewals' });
    expect(held!.held).toBe(true);

    // Released: free at once.
    await held!.release();
    expect(held!.signal.aborted).toBe(true);
    const taken = await waitFor(() => second.tryAcquire('job.a'), { what: 'the released lease to be taken' });
    expect(taken.held).toBe(true);
    await taken.release();
  });

  it('tells a holder that stopped renewing (a paused process) that it lost the lease before another may take it', async () => {
    const [first, second] = await Promise.all([Leases.open(client, 'first', TTL_MS), Leases.open(client, 'second', TTL_MS)]);
    const held = (await first.tryAcquire('job.b'))!;
    // A process that stands still: its renewals stop (the timer is the process's own), as when it is killed.
    (held as unknown as { renewals: NodeJS.Timeout }).renewals.close();
    let lostAt: number | null = null;
    // Told by the lease itself, not by anyone asking it.
    held.signal.addEventListener('abort', () => (lostAt = Date.now()));
    try {
      const taken = await waitFor(() => second.tryAcquire('job.b'), { what: 'another process to take the abandoned lease' });
      const takenAt = Date.now();
      // The holder had stopped by then: at most one holder at any instant.
      expect(lostAt).not.toBeNull();
      expect(lostAt!).toBeLessThanOrEqual(takenAt);
      expect(held.signal.aborted).toBe(true);
      await taken.release();
    } finally {
      await held.release();
    }
  });
});
