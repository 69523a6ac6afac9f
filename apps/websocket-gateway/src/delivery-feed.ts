import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, type ConsumerMessages } from '@nats-io/jetstream';
import { NatsClient } from '@app/messaging';
import { ClientRegistry } from './client-registry.js';

/**
 * Reads websocket deliveries from the deliveries stream with an ordered
 * consumer of this replica's own (every replica sees every delivery, and
 * forwards those of endpoints it has clients for). Reading the stream rather
 * than the subject means a delivery re-published after a router crash is
 * seen once, as the stream stored it once.
 */
@Injectable()
export class DeliveryFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryFeed.name);
  private messages: ConsumerMessages | null = null;
  private running: Promise<void> | null = null;
  forwarded = 0;

  constructor(
    private readonly nats: NatsClient,
    private readonly clients: ClientRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { jetstream, topology } = this.nats;
    const consumer = await jetstream.consumers.get(topology.streams.deliveries, {
      filter_subjects: topology.allWebsocketDeliveries,
      deliver_policy: DeliverPolicy.New,
    });
    this.messages = await consumer.consume({ max_messages: 1_024 });
    const messages = this.messages;
    this.running = (async () => {
      for await (const message of messages) {
        this.clients.broadcast(topology.endpointOfDelivery(message.subject), message.data);
        this.forwarded += 1;
      }
    })().catch((error: unknown) => this.logger.error(`delivery feed stopped: ${(error as Error).message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    this.messages?.stop();
    await this.running;
  }
}
