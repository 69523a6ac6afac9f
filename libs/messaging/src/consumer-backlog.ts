import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerInfo } from '@nats-io/jetstream';
import { consumerBacklogGauges, type HealthServer } from '@app/runtime';
import type { NatsClient } from './nats-connection.js';

/** A scrape waits this long at most for the consumers' info; the gauges are absent when NATS is slower. */
const SAMPLE_TIMEOUT_MS = 1_000;
/** Scrapes within this long of a sample reuse it: several Prometheus servers cost one request per consumer. */
const SAMPLE_REUSE_MS = 2_000;

type InfoSource = () => Promise<Pick<ConsumerInfo, 'num_pending' | 'num_ack_pending'> | null>;

/**
 * The backlog of this app's JetStream consumers as the gauges
 * `event_service_consumer_pending_messages` and `…_ack_pending`, sampled at
 * scrape time: one consumer-info request per consumer, not more often than
 * every SAMPLE_REUSE_MS, and none while NATS is disconnected. A consumer
 * whose info did not come (NATS away, the consumer being re-created) is
 * absent from the scrape, not reported with a stale value.
 */
export class ConsumerBacklog {
  private readonly sources = new Map<string, InfoSource>();
  private sampling: Promise<void> | null = null;
  private sampledAt = 0;
  private readonly gauges: ReturnType<typeof consumerBacklogGauges>;

  constructor(
    private readonly client: NatsClient,
    health: HealthServer,
  ) {
    this.gauges = consumerBacklogGauges(health.metrics, () => this.sample());
  }

  /** Reports a consumer under `name`; `info` resolves to null while it has none (not started yet). */
  track(name: string, info: InfoSource): void {
    this.sources.set(name, info);
  }

  /** A durable consumer of this app, by its stream and name. */
  trackDurable(stream: string, durable: string): void {
    this.track(durable, () => this.client.manager.consumers.info(stream, durable));
  }

  private sample(): Promise<void> {
    if (Date.now() - this.sampledAt < SAMPLE_REUSE_MS) return this.sampling ?? Promise.resolve();
    this.sampledAt = Date.now();
    this.sampling = this.read().finally(() => (this.sampling = null));
    return this.sampling;
  }

  private async read(): Promise<void> {
    const { pending, ackPending } = this.gauges;
    const connected = this.client.connected;
    const samples = await Promise.all(
      [...this.sources].map(async ([name, info]) => {
        if (!connected) return { name, info: null };
        const timeout = sleep(SAMPLE_TIMEOUT_MS, null, { ref: false });
        return { name, info: await Promise.race([info().catch(() => null), timeout]) };
      }),
    );
    pending.reset();
    ackPending.reset();
    for (const { name, info } of samples) {
      if (!info) continue;
      pending.set({ consumer: name }, info.num_pending);
      ackPending.set({ consumer: name }, info.num_ack_pending);
    }
  }
}
