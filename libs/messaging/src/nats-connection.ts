import { readFileSync } from 'node:fs';
import { connect, createInbox, credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsEnv, PartitionsEnv } from '@app/config';
import { DEFAULT_LEASE_TTL_MS } from './lease.js';
import type { PartitionSettings } from './partitioned-runner.js';
import { streamsOfApp, streamsOwnedBy, type StreamKey } from './streams.js';
import { Topology } from './topology.js';

const JETSTREAM_API_TIMEOUT_MS = 15_000;

/** The settings every app's NATS connection is made from. */
export interface NatsSettings {
  url: string;
  prefix: string;
  /** Retention of events and deliveries, in milliseconds. */
  streamMaxAgeMs: number;
  /** Duplicate window of message ids, in milliseconds. */
  duplicateWindowMs: number;
  /** Bytes each data-path stream may hold; the dead letters' and the image store's own limits. */
  streamMaxBytes?: number;
  deadLetterMaxBytes?: number;
  imageStoreMaxBytes?: number;
  /** Unread events each agent's subject of the ingress stream may hold (INGRESS_MAX_PER_AGENT); no limit when unset. */
  ingressMaxPerAgent?: number;
  /** Copies JetStream keeps of each stream, KV bucket and object store the app creates (NATS_REPLICAS); 1 when unset. */
  replicas?: number;
  /** Shown in the server's connection list. */
  connectionName: string;
  /** How the app proves who it is, and TLS; none for an open local server. */
  auth?: NatsAuth;
  /**
   * The subject prefix of this connection's reply inboxes (`_INBOX` when unset): with its own,
   * an app's NATS user may be allowed to receive replies on it alone (docs/operations.md).
   */
  inboxPrefix?: string;
  /** How the app's partitioned consumers are shared out among its replicas (PARTITIONS, PARTITION_LEASE_TTL). */
  partitions?: PartitionSettings;
  /** The streams this app creates if they do not exist (streamsOfApp); all when unset. */
  streams?: readonly StreamKey[];
  /** Of those, the ones whose configuration it keeps up to date (streamsOwnedBy); all when unset. */
  ownedStreams?: readonly StreamKey[];
}

/** NATS credentials (one way at most) and TLS files, from NATS_* variables (docs/configuration.md). */
export interface NatsAuth {
  user?: string;
  password?: string;
  token?: string;
  nkeySeedFile?: string;
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** The connection options NatsAuth comes to; throws a readable error for a contradictory set. */
export function authOptions(auth: NatsAuth | undefined): Partial<ConnectionOptions> {
  if (!auth) return {};
  const ways = [auth.user !== undefined || auth.password !== undefined, auth.token !== undefined, auth.nkeySeedFile !== undefined, auth.credsFile !== undefined];
  if (ways.filter(Boolean).length > 1) {
    throw new Error('NATS credentials: set one of NATS_USER and NATS_PASSWORD, NATS_TOKEN, NATS_NKEY_SEED_FILE or NATS_CREDS_FILE');
  }
  if ((auth.user === undefined) !== (auth.password === undefined)) throw new Error('NATS credentials: NATS_USER and NATS_PASSWORD go together');
  if ((auth.tls?.certFile === undefined) !== (auth.tls?.keyFile === undefined)) {
    throw new Error('NATS TLS: NATS_TLS_CERT_FILE and NATS_TLS_KEY_FILE go together');
  }
  const options: Partial<ConnectionOptions> = {};
  if (auth.user !== undefined) Object.assign(options, { user: auth.user, pass: auth.password });
  if (auth.token !== undefined) options.token = auth.token;
  if (auth.nkeySeedFile !== undefined) options.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(auth.nkeySeedFile, 'utf8').trim()));
  if (auth.credsFile !== undefined) options.authenticator = credsAuthenticator(readFileSync(auth.credsFile));
  const tls = Object.fromEntries(Object.entries(auth.tls ?? {}).filter(([, file]) => file !== undefined));
  if (Object.keys(tls).length > 0) options.tls = tls;
  return options;
}

/** The connection settings of an app, from the NATS part of its validated config; `app` names its connection and its streams. */
export function natsSettings(config: NatsEnv & Partial<PartitionsEnv>, app: string): NatsSettings {
  return {
    ...(config.PARTITIONS !== undefined ? { partitions: { count: config.PARTITIONS, leaseTtlMs: config.PARTITION_LEASE_TTL ?? DEFAULT_LEASE_TTL_MS } } : {}),
    url: config.NATS_URL,
    prefix: config.NATS_PREFIX,
    streamMaxAgeMs: config.STREAM_MAX_AGE,
    duplicateWindowMs: config.STREAM_DUPLICATE_WINDOW,
    auth: {
      user: config.NATS_USER,
      password: config.NATS_PASSWORD,
      token: config.NATS_TOKEN,
      nkeySeedFile: config.NATS_NKEY_SEED_FILE,
      credsFile: config.NATS_CREDS_FILE,
      tls: { caFile: config.NATS_TLS_CA_FILE, certFile: config.NATS_TLS_CERT_FILE, keyFile: config.NATS_TLS_KEY_FILE },
    },
    streamMaxBytes: config.STREAM_MAX_BYTES,
    deadLetterMaxBytes: config.DEAD_LETTER_MAX_BYTES,
    imageStoreMaxBytes: config.IMAGE_STORE_MAX_BYTES,
    ingressMaxPerAgent: config.INGRESS_MAX_PER_AGENT,
    replicas: config.NATS_REPLICAS,
    connectionName: app,
    inboxPrefix: config.NATS_INBOX_PREFIX,
    streams: streamsOfApp(app),
    ownedStreams: streamsOwnedBy(app),
  };
}

/** One NATS connection per process, with its JetStream handles and topology. */
export class NatsClient {
  private isConnected = true;
  private connectedAt = Date.now();

  private constructor(
    readonly connection: NatsConnection,
    readonly jetstream: JetStreamClient,
    readonly manager: JetStreamManager,
    readonly topology: Topology,
    readonly settings: NatsSettings,
  ) {
    void this.trackStatus();
  }

  /** False while the connection to the server is down (the client reconnects by itself). */
  get connected(): boolean {
    return this.isConnected && !this.connection.isClosed();
  }

  /** Milliseconds since the connection was last (re)established; 0 while it is down. */
  get connectedForMs(): number {
    return this.connected ? Date.now() - this.connectedAt : 0;
  }

  private async trackStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      if (status.type === 'disconnect') this.isConnected = false;
      if (status.type === 'reconnect') {
        this.isConnected = true;
        this.connectedAt = Date.now();
      }
    }
  }

  /**
   * Connects, waiting for the server if it is not up yet (a pod may start
   * before NATS), and reconnecting forever afterwards.
   */
  static async connect(settings: NatsSettings): Promise<NatsClient> {
    const connection = await connect({
      ...authOptions(settings.auth),
      servers: settings.url.split(',').map((server) => server.trim()),
      name: settings.connectionName,
      inboxPrefix: settings.inboxPrefix,
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      pingInterval: 10_000,
      // Every request (each JetStream publish is one) would otherwise build two errors up front for their stack traces,
      // in case it times out: 7–15% of ingest's, profile-sync's and the router's CPU under load (docs/benchmarks.md).
      noAsyncTraces: true,
    });
    // JetStream API calls (consumer and stream set-up) can take seconds on a busy server: wait
    // longer than the client's default 5 s before calling one failed (the caller retries then).
    const options = { timeout: JETSTREAM_API_TIMEOUT_MS };
    const manager = await jetstreamManager(connection, options);
    return new NatsClient(connection, jetstream(connection, options), manager, new Topology(settings.prefix), settings);
  }

  /** A new reply subject under this connection's inbox prefix. */
  inbox(): string {
    return createInbox(this.settings.inboxPrefix);
  }

  async close(): Promise<void> {
    if (!this.connection.isClosed()) {
      await this.connection.drain();
    }
  }
}
