import { describe, expect, it } from '@jest/globals';
import { EndpointState, type ConfigView } from '@app/messaging';
import type { ClaimHorizon } from './claim-horizon.js';
import type { Delivery, DeliveryFlow } from './delivery-flow.js';
import type { DeliveryStore, ParkedDelivery } from './delivery-store.js';
import type { DispatcherConfig } from './dispatcher.config.js';
import type { EndpointLanes } from './endpoint-lanes.js';
import type { EndpointRates } from './endpoint-rates.js';
import type { FirstAttemptOrder } from './first-attempt-order.js';
import type { RetryHolds } from './retry-holds.js';
import { RetryScheduler } from './retry-scheduler.js';
import { waitFor } from '../../../test/support/wait.js';

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  return { promise: new Promise<T>((yes) => (resolve = yes)), resolve };
}

const parked: ParkedDelivery = { id: '1', endpointId: 'e', eventId: 'v', body: Buffer.from('{}'), attempt: 2, acceptedAt: null, firstSeq: null };

function schedulerWith(store: Partial<DeliveryStore>, flow: Partial<DeliveryFlow>, endpoints: Array<{ id: string; state: EndpointState }>, probeIntervalMs: number): RetryScheduler {
  return new RetryScheduler(
    { claimDue: async () => [], endpointsWithFirstAttempts: async () => [], prune: async () => ({ lines: 0, failed: 0 }), ...store } as unknown as DeliveryStore,
    { healthy: true, allEndpoints: () => endpoints } as unknown as ConfigView,
    { busyEndpoints: () => [] } as unknown as EndpointLanes,
    { exhausted: () => [] } as unknown as EndpointRates,
    flow as DeliveryFlow,
    { now: async () => new Date() } as unknown as ClaimHorizon,
    { settle: () => undefined } as unknown as RetryHolds,
    { queued: () => [], found: () => undefined } as unknown as FirstAttemptOrder,
    { WEBHOOK_TIMEOUT: 15_000, WEBHOOK_PROBE_INTERVAL: probeIntervalMs, DELIVERY_LOG_RETENTION: 86_400_000 } as DispatcherConfig,
  );
}

describe('the retry scheduler', () => {
  it('stops only once the claim under way at shutdown and the attempt it started are done, and claims nothing after', async () => {
    const order: string[] = [];
    const claim = deferred<ParkedDelivery[]>();
    const answered = deferred<void>();
    let claims = 0;
    const scheduler = schedulerWith(
      {
        claimDue: () => {
          claims += 1;
          return claims === 1 ? claim.promise : Promise.resolve([]);
        },
      } as unknown as Partial<DeliveryStore>,
      {
        advance: async () => {
          order.push('attempt sent');
          await answered.promise;
          order.push('attempt stored');
          return { settlesEndpoint: false };
        },
      } as unknown as Partial<DeliveryFlow>,
      [],
      60_000,
    );
    scheduler.onApplicationBootstrap();
    await waitFor(() => claims === 1, { what: 'the first claim' });

    // Shutdown begins while the poll's claim is on its way: the claimed delivery is attempted, and waited for.
    const stopped = scheduler.onApplicationShutdown().then(() => order.push('stopped'));
    claim.resolve([parked]);
    await waitFor(() => order.includes('attempt sent'), { what: 'the attempt' });
    answered.resolve();
    await stopped;

    expect(order).toEqual(['attempt sent', 'attempt stored', 'stopped']);
    expect(claims).toBe(1);
  });

  it('never sends an endpoint a second probe while its first hangs, and probes the other paused endpoints meanwhile', async () => {
    const claims = { hanging: 0, other: 0 };
    const answered = deferred<void>();
    let next = 0;
    const scheduler = schedulerWith(
      {
        claimOneOf: async (endpointId: string) => {
          claims[endpointId as keyof typeof claims] += 1;
          next += 1;
          return { ...parked, id: String(next), endpointId };
        },
      } as unknown as Partial<DeliveryStore>,
      {
        advance: async (delivery: Delivery) => {
          if (delivery.endpointId === 'hanging') await answered.promise;
          return { settlesEndpoint: false };
        },
      } as unknown as Partial<DeliveryFlow>,
      [
        { id: 'hanging', state: EndpointState.PAUSED_BY_FAILURES },
        { id: 'other', state: EndpointState.PAUSED_BY_FAILURES },
      ],
      5,
    );
    scheduler.onApplicationBootstrap();
    try {
      // Rounds go on while the first probe hangs: the other endpoint is probed in each.
      await waitFor(() => claims.other >= 5, { what: 'five rounds of probes' });
      expect(claims.hanging).toBe(1);

      answered.resolve();
      await waitFor(() => claims.hanging >= 2, { what: 'the next probe once the first was answered' });
    } finally {
      await scheduler.onApplicationShutdown();
    }
  });
});
