import { Global, Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit, type BeforeApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, ModuleRef, Reflector } from '@nestjs/core';
import { deadLettersCounter, HealthServer, retryWhileTransient } from '@app/runtime';
import type { KV } from '@nats-io/kv';
import { openConfigBucket, ConfigPublisher, ConfigPublishers, EndpointHealthPublisher } from './config-bucket.js';
import { ConfigView } from './config-view.js';
import { TokenView } from './token-view.js';
import { ConfigBarrierResponder } from './config-barrier.js';
import { CONSUMER_SPEC, type ConsumerSpec, type MessageHandler } from './consumer.js';
import { ConsumerBacklog } from './consumer-backlog.js';
import { ConsumerRunner } from './consumer-runner.js';
import { DEFAULT_PARTITION_SETTINGS, PartitionedRunner } from './partitioned-runner.js';
import { DeadLetterReason } from './outcome.js';
import { NatsClient, type NatsSettings } from './nats-connection.js';
import { ensureStreams } from './streams.js';
import { StreamTrimmer } from './stream-trimmer.js';

export const NATS_SETTINGS = Symbol('nats-settings');
const CONFIG_BUCKET = Symbol('config-bucket');
/** A ConfigView of the secrets bucket (webhooks' sealed secrets): the dispatcher's and the api's. */
export const SECRETS_VIEW = Symbol('secrets-view');

/**
 * Starts every provider marked @JetStreamConsumer once the app is up (in an
 * app with a config view, once the api has published the config: until then
 * messages wait in their streams), and drains them on shutdown.
 */
@Injectable()
export class ConsumerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ConsumerHost.name);
  readonly runners: Array<ConsumerRunner | PartitionedRunner> = [];
  private starting: Promise<void> | null = null;
  private stopping = false;
  private consuming = false;
  private readonly deadLetters: ReturnType<typeof deadLettersCounter>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly client: NatsClient,
    private readonly health: HealthServer,
    private readonly moduleRef: ModuleRef,
    private readonly backlog: ConsumerBacklog,
  ) {
    this.deadLetters = deadLettersCounter(health.metrics);
  }

  async onApplicationBootstrap(): Promise<void> {
    const consumers = this.consumers();
    // Every reason's series exists from the start, at 0: Prometheus's increase() over a series that first
    // appears at 1 is 0, and the dead-letter alert would miss an app's first dead letter.
    if (consumers.length > 0) {
      for (const reason of Object.values(DeadLetterReason)) this.deadLetters.inc({ app: this.health.appName, reason }, 0);
    }
    this.health.addStatus(() => ({ consumers: Object.fromEntries(this.runners.map((runner) => [runner.durable, runner.stats])) }));
    // Not ready before every consumer has started (and never, should starting them fail).
    this.health.addCheck('consumers', () => this.consuming);
    const view = this.configView();
    if (!view) return this.startConsumers(consumers);
    // Not awaited: the app (its health listener included) comes up, not ready, while the bucket is empty.
    if (!view.healthy) this.logger.log('waiting for the api to publish the config before consuming');
    void view.whenPublished.then(() => {
      if (this.stopping) return;
      this.starting = this.startConsumers(consumers).catch((error: Error) => this.logger.error(`cannot start consuming: ${error.message}`));
    });
  }

  private configView(): ConfigView | null {
    try {
      return this.moduleRef.get(ConfigView, { strict: false });
    } catch {
      return null;
    }
  }

  /** The providers marked @JetStreamConsumer, with their specs. */
  private consumers(): Array<{ spec: ConsumerSpec; handler: MessageHandler }> {
    return this.discovery.getProviders().flatMap((wrapper) => {
      if (!wrapper.metatype || !wrapper.instance) return [];
      const spec = this.reflector.get<ConsumerSpec | undefined>(CONSUMER_SPEC, wrapper.metatype as object as Function);
      return spec ? [{ spec, handler: wrapper.instance as MessageHandler }] : [];
    });
  }

  private async startConsumers(consumers: Array<{ spec: ConsumerSpec; handler: MessageHandler }>): Promise<void> {
    for (const { spec, handler } of consumers) {
      const reachable = (): boolean => this.health.dependenciesReachable();
      const deadLettered = (reason: DeadLetterReason): void => void this.deadLetters.inc({ app: this.health.appName, reason });
      const resolved = ConsumerRunner.withDefaults(spec);
      let runner: ConsumerRunner | PartitionedRunner;
      if (resolved.partitionKey) {
        const partitioned = new PartitionedRunner(this.client, resolved, handler, this.client.settings.partitions ?? DEFAULT_PARTITION_SETTINGS, reachable, deadLettered);
        this.backlog.track(spec.durable, () => partitioned.backlog());
        runner = partitioned;
      } else {
        runner = new ConsumerRunner(this.client, resolved, handler, reachable, deadLettered);
        this.backlog.trackDurable(spec.stream(this.client.topology), spec.durable);
      }
      this.health.addCheck(`consumer:${spec.durable}`, () => runner.healthy);
      await runner.start();
      this.runners.push(runner);
      this.logger.log(`consuming ${spec.filterSubject(this.client.topology)} as ${spec.durable}`);
    }
    this.consuming = true;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.starting;
    await Promise.all(this.runners.map((runner) => runner.stop()));
  }
}

const TRIM_INTERVAL_MS = 2_000;

/** Runs the StreamTrimmer every two seconds over the streams this app's consumers read (one pass at a time; a failed pass is tried again at the next). */
@Injectable()
class StreamTrimming implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(StreamTrimmer.name);
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private failing = false;

  constructor(
    private readonly client: NatsClient,
    private readonly consumers: ConsumerHost,
  ) {}

  onApplicationBootstrap(): void {
    const trimmer = new StreamTrimmer(this.client, () => new Set(this.consumers.runners.map((runner) => runner.durable)));
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = true;
      trimmer
        .trim()
        .then(() => (this.failing = false))
        .catch((error: Error) => {
          if (!this.failing) this.logger.warn(`cannot trim the streams now: ${error.message}`);
          this.failing = true;
        })
        .finally(() => (this.running = false));
    }, TRIM_INTERVAL_MS);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Reports the connection in readiness, and closes it last, after consumers have drained. */
@Injectable()
class NatsLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    private readonly client: NatsClient,
    private readonly health: HealthServer,
  ) {}

  onModuleInit(): void {
    this.health.addDependency('nats', () => this.client.connected);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}

/** The NATS connection, the data-path streams and the consumers of one app. */
@Module({})
export class MessagingModule {
  static forRoot(settings: NatsSettings): DynamicModule {
    return {
      module: MessagingModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: NATS_SETTINGS, useValue: settings },
        {
          provide: NatsClient,
          inject: [NATS_SETTINGS],
          useFactory: async (value: NatsSettings) => {
            const client = await NatsClient.connect(value);
            await retryWhileTransient('stream set-up', () => ensureStreams(client));
            return client;
          },
        },
        { provide: CONFIG_BUCKET, inject: [NatsClient], useFactory: (client: NatsClient) => openConfigBucket(client) },
        { provide: ConsumerBacklog, inject: [NatsClient, HealthServer], useFactory: (client: NatsClient, health: HealthServer) => new ConsumerBacklog(client, health) },
        ConsumerHost,
        NatsLifecycle,
        StreamTrimming,
      ],
      exports: [NatsClient, ConsumerHost, ConsumerBacklog, CONFIG_BUCKET],
    };
  }
}

/** For data-path apps: the endpoint and filter config, loaded before the app starts consuming. */
@Injectable()
export class ConfigViewLifecycle implements OnApplicationShutdown {
  constructor(@Inject(ConfigView) private readonly view: ConfigView) {}

  onApplicationShutdown(): void {
    this.view.stop();
  }
}

/**
 * A bucket's view loaded before the app is ready, with its readiness check
 * `check`: a view that is not loaded, or whose watch ended, is not ready.
 */
async function loadedView<T extends { readonly healthy: boolean; start(): Promise<void> }>(view: T, health: HealthServer, check: string): Promise<T> {
  health.addCheck(check, () => view.healthy);
  await view.start();
  return view;
}

@Module({
  providers: [
    {
      provide: ConfigView,
      inject: [CONFIG_BUCKET, HealthServer],
      useFactory: async (bucket: KV, health: HealthServer) => {
        return loadedView(new ConfigView(bucket), health, 'config');
      },
    },
    ConfigViewLifecycle,
  ],
  exports: [ConfigView],
})
export class ConfigViewModule {}

@Injectable()
export class SecretsViewLifecycle implements OnApplicationShutdown {
  constructor(@Inject(SECRETS_VIEW) private readonly view: ConfigView) {}

  onApplicationShutdown(): void {
    this.view.stop();
  }
}

/** For the dispatcher (and the api): webhooks' sealed secrets, from a bucket no other app reads. Global: the barrier answers for it. */
@Global()
@Module({
  providers: [
    {
      provide: SECRETS_VIEW,
      inject: [NatsClient, HealthServer],
      useFactory: async (client: NatsClient, health: HealthServer) => {
        return loadedView(new ConfigView(await openConfigBucket(client, 'secrets')), health, 'secrets');
      },
    },
    SecretsViewLifecycle,
  ],
  exports: [SECRETS_VIEW],
})
export class SecretsViewModule {}

/** For the webhook-dispatcher: writes its endpoint health records to the bucket. */
@Module({
  providers: [{ provide: EndpointHealthPublisher, inject: [CONFIG_BUCKET], useFactory: (bucket: KV) => new EndpointHealthPublisher(bucket) }],
  exports: [EndpointHealthPublisher],
})
export class EndpointHealthPublisherModule {}

/** For the api: writes config changes to the buckets. */
@Module({
  providers: [
    {
      provide: ConfigPublishers,
      inject: [NatsClient, CONFIG_BUCKET],
      useFactory: async (client: NatsClient, config: KV) =>
        new ConfigPublishers({ config: new ConfigPublisher(config), secrets: new ConfigPublisher(await openConfigBucket(client, 'secrets')), tokens: new ConfigPublisher(await openConfigBucket(client, 'tokens')) }),
    },
  ],
  exports: [ConfigPublishers],
})
export class ConfigPublisherModule {}

@Injectable()
class ConfigBarrierLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly responder: ConfigBarrierResponder) {}

  onApplicationBootstrap(): void {
    this.responder.start();
  }

  onApplicationShutdown(): void {
    this.responder.stop();
  }
}

/**
 * For the webhook-dispatcher and the gateway: answers the api's "have you
 * applied this revision of the config bucket (or, with SecretsViewModule, of
 * the secrets bucket)?" (ConfigBarrierResponder).
 */
@Module({
  imports: [ConfigViewModule],
  providers: [
    {
      provide: ConfigBarrierResponder,
      inject: [NatsClient, ConfigView, { token: SECRETS_VIEW, optional: true }],
      useFactory: (client: NatsClient, view: ConfigView, secrets: ConfigView | undefined) => {
        const views = new Map([[client.topology.configBucket, view]]);
        if (secrets) views.set(client.topology.secretsBucket, secrets);
        return new ConfigBarrierResponder(client, views, client.topology.configApplied);
      },
    },
    ConfigBarrierLifecycle,
  ],
})
export class ConfigBarrierModule {}

const TOKEN_BARRIER = Symbol('token-barrier');

@Injectable()
class TokenViewLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(TOKEN_BARRIER) private readonly responder: ConfigBarrierResponder,
    private readonly view: TokenView,
  ) {}

  onApplicationBootstrap(): void {
    this.responder.start();
  }

  onApplicationShutdown(): void {
    this.responder.stop();
    this.view.stop();
  }
}

/**
 * For the apps that check tokens (api, ingest, websocket-gateway): the named tokens, loaded
 * before the app is ready, and the answer to the api's "have you applied
 * this token change?" (so that a revocation holds everywhere once it returns).
 */
@Module({
  providers: [
    {
      provide: TokenView,
      inject: [NatsClient, HealthServer],
      useFactory: async (client: NatsClient, health: HealthServer) => {
        return loadedView(new TokenView(await openConfigBucket(client, 'tokens')), health, 'tokens');
      },
    },
    {
      provide: TOKEN_BARRIER,
      inject: [NatsClient, TokenView],
      useFactory: (client: NatsClient, view: TokenView) => new ConfigBarrierResponder(client, new Map([[client.topology.tokensBucket, view]]), client.topology.tokensApplied),
    },
    TokenViewLifecycle,
  ],
  exports: [TokenView],
})
export class TokenViewModule {}
