import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { DEFAULT_LEASE_TTL_MS, NatsClient, openConfigBucket, openLeasesBucket, PartitionStore, type NatsAuth } from '@app/messaging';
import { dropAppRoles, type DatabaseApp } from '@app/persistence';
import { migrateForApps, usesDatabase, type AppName } from '../../scripts/local-stack.js';
import { AppProcess } from './app-process.js';
import { freshEvent } from './fixtures.js';
import { MetricSamples } from './metrics.js';
import { freePort, isListening } from './ports.js';
import { waitFor, WaitTimeoutError } from './wait.js';
import type { Mutation, Query } from '../../apps/dashboard/src/schema.generated.js';

/** Whatever a query or mutation of the schema may answer, typed by the schema (a query selects some of it). */
export type SchemaData = Query & Mutation;

/** A GraphQL answer: its data, and its errors with their code (and the field at fault, for BAD_USER_INPUT). */
export interface GraphQLAnswer<T> {
  data: T;
  errors?: Array<{ message: string; extensions: { code: string; field?: string; [key: string]: unknown } }>;
}

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
/**
 * What a benchmark passes to run the apps with production's partition lease TTL rather than the tests' 3 s (set
 * below), which replicas loaded on two shared cores miss: every partition of an app lost at once, its reading stopped
 * until taken again (docs/benchmarks.md, The whole pipeline).
 */
export const PRODUCTION_LEASES = { PARTITION_LEASE_TTL: `${DEFAULT_LEASE_TTL_MS}ms` } as const;
const LOG_DIR = join(tmpdir(), 'event-service-tests');
/** How long an app may take to become ready. */
const READY_TIMEOUT_MS = 30_000;
/**
 * How long the stack's other waits (config applied, routing done, an app
 * gone) may take: generous for a busy machine, since a dead app fails them
 * at once anyway, and below jest's 60 s per test, so that a failure names
 * what did not happen.
 */
const SETTLE_TIMEOUT_MS = 30_000;
/** How long an app may take to shut down on SIGTERM in stop() before it is killed. */
const STOP_GRACE_MS = 10_000;
/** How long a request that failed waits for its app's exit to be seen, to report that instead. */
const FETCH_FAILURE_EXIT_MS = 500;

const MAIN_PORT_VAR: Partial<Record<AppName, string>> = { api: 'API_PORT', ingest: 'INGEST_PORT', 'websocket-gateway': 'GATEWAY_PORT' };

export interface StackOptions {
  apps?: readonly AppName[];
  /** Extra environment for every app (for example a NATS_URL through a TCP proxy). */
  env?: NodeJS.ProcessEnv;
  /** Extra environment for one app. */
  appEnv?: Partial<Record<AppName, NodeJS.ProcessEnv>>;
  /**
   * A NATS server of the test's own instead of the shared one: its URL, the
   * subject prefix the apps use on it, and how the stack's own client (its
   * waits and helpers) connects. The apps get their credentials through
   * `env`/`appEnv`. The streams stay when the stack stops: the test throws
   * its server away with its store.
   */
  nats?: { url: string; prefix: string; auth?: NatsAuth };
}

/** An app's process: its name for the first (`filter-router`), with `#n` for more replicas (`filter-router#2`). */
export type Instance = AppName | `${AppName}#${number}`;
const appOf = (instance: Instance): AppName => instance.split('#')[0] as AppName;

/**
 * Deletes every stream of a prefix: the topology's and any added since (all
 * named `<PREFIX>_…`), and those behind its KV and object store buckets
 * (`KV_<prefix>_…`, `OBJ_<prefix>_…`).
 */
export async function deleteStreamsOf(manager: JetStreamManager, prefix: string): Promise<void> {
  const owned = [`${prefix.toUpperCase()}_`, `KV_${prefix}_`, `OBJ_${prefix}_`];
  const names: string[] = [];
  for await (const name of manager.streams.names()) {
    if (owned.some((start) => name.startsWith(start))) names.push(name);
  }
  const failures: string[] = [];
  for (const name of names) {
    await manager.streams.delete(name).catch((error: Error) => {
      if (!/stream not found/i.test(error.message)) failures.push(`${name}: ${error.message}`);
    });
  }
  if (failures.length > 0) throw new Error(`cannot delete the streams of prefix ${prefix}: ${failures.join('; ')}`);
}

/**
 * The real service for one test file: each app in its own process, against
 * the real NATS and PostgreSQL, with its own subject prefix, streams, config
 * bucket and database schema, all removed by stop().
 *
 * An app that exits without kill() or stop() asking it to fails the run at
 * once: every `waitFor` (the stack's and the test's own) and every helper
 * that talks to the apps throws its exit, with its last output.
 */
export class TestStack {
  readonly id = randomBytes(4).toString('hex');
  readonly prefix: string;
  readonly schema = `t_${this.id}`;
  readonly token = `test-token-${randomBytes(12).toString('hex')}`;
  readonly publicBaseUrl = 'http://events.test';
  readonly ports = new Map<Instance, { main: number; health: number }>();
  /** Each instance's process (the latest, after a restart). */
  private readonly running = new Map<Instance, AppProcess>();
  /** Every process this stack started, restarted ones included: the death of any fails the run. */
  private readonly started: AppProcess[] = [];
  private nats: NatsClient | null = null;
  private stopped: Promise<void> | null = null;
  /** The migration step, run once before the first app that uses PostgreSQL starts: each such app's URL, as its own role. */
  private migrated: Promise<Record<DatabaseApp, string>> | null = null;
  private databaseUrls: Record<DatabaseApp, string> | null = null;

  private constructor(readonly options: StackOptions) {
    this.prefix = options.nats?.prefix ?? `t${this.id}`;
  }

  /** The NATS server the apps and the stack's client use. */
  get natsUrl(): string {
    return this.options.nats?.url ?? NATS_URL;
  }

  /**
   * Starts the apps and waits until each is ready. If one cannot start, the
   * others are stopped and everything made is removed before the error is thrown.
   */
  static async start(options: StackOptions = {}): Promise<TestStack> {
    const stack = new TestStack(options);
    try {
      mkdirSync(LOG_DIR, { recursive: true });
      const apps = options.apps ?? (['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway'] as const);
      // webhook-dispatcher joins when a test asks for it (apps: [..., 'webhook-dispatcher']).
      for (const app of apps) stack.ports.set(app, { main: await freePort(), health: await freePort() });
      // All at once: each app makes the streams it needs itself; the migration step runs before the first that uses PostgreSQL.
      await Promise.all(apps.map((app) => stack.startApp(app)));
    } catch (error) {
      const cleanupError = await stack.stop().then(
        () => null,
        (failure: Error) => failure,
      );
      if (cleanupError) throw new Error(`${(error as Error).message}\nand the clean-up after it failed: ${cleanupError.message}`, { cause: error });
      throw error;
    }
    return stack;
  }

  env(instance: Instance): NodeJS.ProcessEnv {
    const app = appOf(instance);
    const ports = this.ports.get(instance)!;
    const mainVar = MAIN_PORT_VAR[app];
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      NATS_URL: this.natsUrl,
      NATS_PREFIX: this.prefix,
      DATABASE_URL,
      DATABASE_SCHEMA: this.schema,
      API_TOKEN: this.token,
      PUBLIC_BASE_URL: this.publicBaseUrl,
      HEALTH_PORT: String(ports.health),
      STREAM_MAX_AGE: '1h',
      // A killed replica's partitions move to another within this (the default, 10 s, would make every restart wait).
      PARTITION_LEASE_TTL: '3s',
      STREAM_MAX_BYTES: '64MiB',
      DEAD_LETTER_MAX_BYTES: '16MiB',
      IMAGE_STORE_MAX_BYTES: '64MiB',
      ...(mainVar ? { [mainVar]: String(ports.main) } : {}),
      ...this.options.env,
      ...this.options.appEnv?.[app],
    };
    // As its own role (the migration step's), on whatever server the test points it to (a proxy, an unreachable port).
    if (usesDatabase(app) && this.databaseUrls) {
      const own = new URL(this.databaseUrls[app]);
      const given = new URL(env.DATABASE_URL!);
      [given.username, given.password] = [own.username, own.password];
      env.DATABASE_URL = given.toString();
    }
    return env;
  }

  /** Starts (or restarts) an instance and waits until it is ready (`ready: false`: until its health listener answers). */
  async startApp(instance: Instance, { ready = true, readyTimeoutMs = READY_TIMEOUT_MS }: { ready?: boolean; readyTimeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) throw new Error(`cannot start ${instance}: stack ${this.prefix} was stopped`);
    if (usesDatabase(appOf(instance))) this.databaseUrls = await (this.migrated ??= migrateForApps(DATABASE_URL, this.schema));
    const app = AppProcess.spawn(appOf(instance), this.env(instance), { name: instance, logFile: join(LOG_DIR, `t${this.id}-${instance}.log`) });
    this.running.set(instance, app);
    this.started.push(app);
    await this.waitReady(instance, { ready, readyTimeoutMs });
  }

  /** Starts one more replica of an app, with ports of its own; returns its instance name. */
  /** `readyTimeoutMs`: for a replica whose start has much to do (an api reconciling a large config). */
  async startReplica(app: AppName, { readyTimeoutMs = READY_TIMEOUT_MS }: { readyTimeoutMs?: number } = {}): Promise<Instance> {
    let replica = 2;
    while (this.ports.has(`${app}#${replica}`)) replica += 1;
    const instance: Instance = `${app}#${replica}`;
    this.ports.set(instance, { main: await freePort(), health: await freePort() });
    await this.startApp(instance, { readyTimeoutMs });
    return instance;
  }

  /**
   * Waits until an instance answers ready and listens on its main port
   * (`ready: false`: until its health listener answers at all). Fails at once if it exits.
   */
  async waitReady(instance: Instance, { ready = true, readyTimeoutMs = READY_TIMEOUT_MS }: { ready?: boolean; readyTimeoutMs?: number } = {}): Promise<void> {
    const app = appOf(instance);
    const ports = this.ports.get(instance)!;
    const appProcess = this.running.get(instance)!;
    const answers = async (): Promise<boolean> => {
      const response = await fetch(`http://127.0.0.1:${ports.health}/readyz`).catch(() => null);
      if (!response) return false;
      await response.body?.cancel();
      return !ready || (response.ok && (!MAIN_PORT_VAR[app] || (await isListening(ports.main))));
    };
    const outcome = await waitFor(
      // An exit is looked at here too: one that stop() asked for must end this wait as well.
      async () => (appProcess.exited ? 'exited' : (await answers()) ? 'ready' : null),
      { timeoutMs: readyTimeoutMs, what: ready ? `${instance} to be ready` : `${instance}'s health listener` },
    ).catch((error: Error) => {
      // A deadline's error gets the app's output here; a death's (this app's or another's) has it already.
      throw error instanceof WaitTimeoutError ? new Error(`${error.message}; its last output:\n${appProcess.output()}`) : error;
    });
    if (outcome === 'exited') throw appProcess.exitError ?? new Error(`${instance} was stopped before it was ready`);
  }

  /**
   * The first app of this stack that exited without kill() or stop() asking
   * it to, with its last output; null while all run (or ended on purpose).
   */
  get unexpectedExit(): Error | null {
    for (const appProcess of this.started) {
      const error = appProcess.exitError;
      if (error) return error;
    }
    return null;
  }

  /** Throws `unexpectedExit`, if an app died. The helpers that talk to the apps call it first. */
  assertAlive(): void {
    const error = this.unexpectedExit;
    if (error) throw error;
  }

  /** The file an instance's whole output goes to (kept after it stopped). */
  logFileOf(instance: Instance): string {
    return join(LOG_DIR, `t${this.id}-${instance}.log`);
  }

  /** An instance's last output lines, for a test's own failure messages. */
  output(instance: Instance, lines?: number): string {
    return this.running.get(instance)?.output(lines) ?? '';
  }

  /** Whether an instance's process runs (started, and not exited since). */
  isRunning(instance: Instance): boolean {
    const app = this.running.get(instance);
    return app !== undefined && !app.exited;
  }

  /** An instance's process id (a benchmark reads the app's CPU time from /proc). */
  pid(instance: Instance): number {
    const pid = this.running.get(instance)?.pid;
    if (pid === undefined) throw new Error(`${instance} is not running`);
    return pid;
  }

  /** Kills an app's process (SIGKILL by default: no clean-up at all) and waits for it to be gone. */
  async kill(instance: Instance, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.running.get(instance)?.kill(signal, SETTLE_TIMEOUT_MS);
  }

  async readiness(instance: Instance): Promise<Record<string, any>> {
    const response = await this.fetchApp(instance, `http://127.0.0.1:${this.ports.get(instance)!.health}/readyz`);
    return (await response.json()) as Record<string, any>;
  }

  /** One scrape of an instance's `/metrics`. */
  async metrics(instance: Instance): Promise<MetricSamples> {
    const response = await this.fetchApp(instance, `http://127.0.0.1:${this.ports.get(instance)!.health}/metrics`);
    if (!response.ok) throw new Error(`${instance} answered ${response.status} to /metrics`);
    return MetricSamples.parse(await response.text());
  }

  /** fetch() to an instance; if an app died, fails with its exit rather than with a reset or refused connection. */
  private async fetchApp(instance: Instance, url: string, init?: RequestInit): Promise<Response> {
    this.assertAlive();
    try {
      return await fetch(url, init);
    } catch (error) {
      // A dying app resets its connections a moment before its exit is seen here.
      await this.running.get(instance)?.exitWithin(FETCH_FAILURE_EXIT_MS);
      this.assertAlive();
      // A live app closed an idle keep-alive connection as this request went out on it (the app never read
      // the request): sent once more (the closed connection has left the pool). Anything else is the test's to see.
      if (closedBeforeAnswer(error)) return fetch(url, init);
      throw error;
    }
  }

  /** Waits until every running data-path app has applied the newest config the api published. */
  async waitForConfig(): Promise<void> {
    // Not only through waitFor's guard: an app that died is skipped below, and may be the only one.
    this.assertAlive();
    const bucket = await openConfigBucket(await this.natsClient());
    const status = await bucket.status();
    const revision = status.streamInfo.state.last_seq;
    for (const [instance, appProcess] of this.running) {
      if (appProcess.exited || !['filter-router', 'websocket-gateway'].includes(appOf(instance))) continue;
      await waitFor(async () => (await this.readiness(instance)).configRevision >= revision, {
        timeoutMs: SETTLE_TIMEOUT_MS,
        what: `${instance} to apply config ${revision}`,
      });
    }
  }

  /**
   * Waits until profile-sync and filter-router have done every message of
   * their streams and every gateway replica has forwarded every websocket
   * delivery stored for the endpoints it has clients of (and the deliveries
   * stream holds exactly `deliveries`, when given).
   */
  async waitForRoutingDone(deliveries?: number): Promise<void> {
    this.assertAlive();
    const nats = await this.natsClient();
    await waitFor(
      async () => {
        if (!(await this.caughtUp(nats.topology.streams.events, 'profile-sync'))) return false;
        if (!(await this.caughtUp(nats.topology.streams.routable, 'filter-router'))) return false;
        if (deliveries !== undefined && (await this.deliveriesStored()) !== deliveries) return false;
        // Every gateway replica forwarded what is stored for the endpoints it reads (its clients').
        for (const [instance, appProcess] of this.running) {
          if (appProcess.exited || appOf(instance) !== 'websocket-gateway') continue;
          const feeds = (await this.readiness(instance)).feeds as Record<string, number>;
          for (const [endpoint, forwarded] of Object.entries(feeds)) {
            const last = await nats.manager.streams.getMessage(nats.topology.streams.deliveries, { last_by_subj: nats.topology.websocketDeliveries(endpoint) });
            if (last && last.seq > forwarded) return false;
          }
        }
        return true;
      },
      { timeoutMs: SETTLE_TIMEOUT_MS, what: 'routing and forwarding to finish' },
    );
  }

  /** Deliveries in the deliveries stream: its messages less the positions records (WebsocketPositions). */
  async deliveriesStored(): Promise<number> {
    const nats = await this.natsClient();
    const { deliveries } = nats.topology.streams;
    const all = (await nats.manager.streams.info(deliveries)).state.messages;
    const positions = (await nats.manager.streams.info(deliveries, { subjects_filter: nats.topology.allWebsocketPositions })).state.subjects ?? {};
    return all - Object.values(positions).reduce((sum, count) => sum + count, 0);
  }

  /**
   * Whether the partitioned consumer `durable` (ingest, profile-sync,
   * filter-router, webhook-dispatcher) has done every message its stream
   * holds (of `subjects`, when given): every partition's position is at the last one.
   */
  async caughtUp(stream: string, durable: string, subjects?: string): Promise<boolean> {
    const nats = await this.natsClient();
    // The consumer's last message: the stream's, or its subjects' (the dispatcher reads the webhook deliveries only).
    const last = subjects
      ? ((await nats.manager.streams.getMessage(stream, { last_by_subj: subjects }))?.seq ?? 0)
      : (await nats.manager.streams.info(stream)).state.last_seq;
    return (await new PartitionStore(await openLeasesBucket(nats), durable).readUpTo()) >= last;
  }

  url(instance: Instance, path: string): string {
    return `http://127.0.0.1:${this.ports.get(instance)!.main}${path}`;
  }

  websocketUrl(endpointId: string): string {
    return `ws://127.0.0.1:${this.ports.get('websocket-gateway')!.main}/event-service/ws?endpoint_id=${encodeURIComponent(endpointId)}`;
  }

  /**
   * A GraphQL call to the api (or one of its replicas), with the stack's
   * token unless another is given. Its data is typed by the schema's own
   * types (generated from apps/api/schema.graphql, as the dashboard's are):
   * a field the schema does not have, or of another type, fails the spec's
   * type check. A query of fields outside Query and Mutation (an
   * introspection) names its type.
   */
  async graphql<T = SchemaData>(
    query: string,
    variables: Record<string, unknown> = {},
    token: string | null = this.token,
    instance: Instance = 'api',
  ): Promise<GraphQLAnswer<T>> {
    const response = await this.fetchApp(instance, this.url(instance, '/event-service/graphql'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { Token: token } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLAnswer<T>;
  }

  async createWebsocketEndpoint(name = 'ws endpoint'): Promise<string> {
    const result = await this.graphql('mutation($name: String!) { createWebSocketEndpoint(name: $name) { id } }', { name });
    if (result.errors) throw new Error(result.errors[0]!.message);
    return result.data.createWebSocketEndpoint.id as string;
  }

  /** Creates a webhook endpoint sending to `url` and returns its id. */
  async createWebhookEndpoint(url: string, name = 'hook'): Promise<string> {
    const result = await this.graphql('mutation($name: String!, $url: String!) { createWebhookEndpoint(name: $name, url: $url) { id } }', { name, url });
    if (result.errors) throw new Error(result.errors[0]!.message);
    return result.data.createWebhookEndpoint.id as string;
  }

  /** Creates an event filter and returns its id. */
  async createEventFilter(input: { name?: string; endpointIds?: string[]; in?: Record<string, string[]> }): Promise<string> {
    const result = await this.graphql('mutation($input: EventFiltersInput!) { createEventFilters(eventFiltersInput: $input) { id } }', {
      input: { name: 'filter', ...input },
    });
    if (result.errors) throw new Error(result.errors[0]!.message);
    return result.data.createEventFilters.id as string;
  }

  /** Posts `count` fresh events one after another (so stored in this order); returns their ids. */
  async postFreshEvents(count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const event = freshEvent();
      const response = await this.postEvent(JSON.stringify(event));
      if (response.status !== 202) throw new Error(`ingest answered ${response.status} to event ${index + 1} of ${count}: ${await response.text()}`);
      ids.push(event.event.id);
    }
    return ids;
  }

  /** Posts one event to ingest as an agent does over HTTP. */
  async postEvent(body: string | Uint8Array, token: string | null = this.token): Promise<Response> {
    return this.fetchApp('ingest', this.url('ingest', '/event-service/events'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { Token: token } : {}) },
      body,
    });
  }

  /** Publishes one event on the agent's NATS subject and waits for the stream's ack. */
  async publishAgentEvent(agentId: string, body: string | Uint8Array): Promise<void> {
    const client = await this.natsClient();
    const data = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    await client.jetstream.publish(client.topology.agentEvents(agentId), data);
  }

  /** Publishes a profile lifecycle message as the platform does. */
  async publishProfile(change: { upserted: { id: string; profile_groups: Array<{ id: string; color: string | null }> } } | { deleted: { id: string } }): Promise<void> {
    const client = await this.natsClient();
    const [subject, body] = 'upserted' in change ? [client.topology.profileUpserted, change.upserted] : [client.topology.profileDeleted, change.deleted];
    await client.jetstream.publish(subject, new TextEncoder().encode(JSON.stringify(body)));
  }

  async natsClient(): Promise<NatsClient> {
    // A connection made after stop() would outlive the stack and keep the process alive.
    if (this.stopped) throw new Error(`stack ${this.prefix} was stopped`);
    this.nats ??= await NatsClient.connect({
      url: this.natsUrl,
      prefix: this.prefix,
      streamMaxAgeMs: 3_600_000,
      duplicateWindowMs: 120_000,
      connectionName: `test-${this.prefix}`,
      auth: this.options.nats?.auth,
    });
    return this.nats;
  }

  /**
   * Stops every app (SIGTERM, then SIGKILL) and removes every stream, bucket
   * and the schema of this stack. Each step runs even if one before it
   * failed; the failures are thrown together at the end. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopped ??= this.tearDown();
    return this.stopped;
  }

  private async tearDown(): Promise<void> {
    // Before anything is killed: these exits are wanted, and no wait may fail on them.
    for (const appProcess of this.started) appProcess.expectExit();
    const failures: string[] = [];
    const step = (what: string, action: () => Promise<void>) => action().catch((error: Error) => void failures.push(`${what}: ${error.message}`));
    await Promise.all([...this.running].map(([instance, appProcess]) => step(`stop ${instance}`, () => appProcess.stop(STOP_GRACE_MS))));
    await step('close the NATS client', async () => {
      const client = this.nats;
      this.nats = null;
      await client?.connection.close();
    });
    if (!this.options.nats) await step('delete the streams and buckets', () => this.deleteStreams());
    await step(`drop schema ${this.schema}`, () => this.dropSchema());
    if (failures.length > 0) throw new Error(`stack ${this.prefix}: clean-up failed: ${failures.join('; ')}`);
  }

  /** On a connection of its own that gives up, rather than waiting for a NATS that is down. */
  private async deleteStreams(): Promise<void> {
    const connection = await connect({ servers: NATS_URL, name: `test-${this.prefix}-clean-up`, timeout: 10_000, maxReconnectAttempts: 0 });
    try {
      await deleteStreamsOf(await jetstreamManager(connection, { timeout: 15_000 }), this.prefix);
    } finally {
      await connection.close();
    }
  }

  private async dropSchema(): Promise<void> {
    const db = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 10_000, query_timeout: 30_000 });
    await db.connect();
    try {
      await db.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
      await dropAppRoles(db, this.schema);
    } finally {
      await db.end();
    }
  }
}

/** fetch()'s failure when the server closed the connection before any answer (undici's `other side closed`). */
function closedBeforeAnswer(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code === 'UND_ERR_SOCKET' && /other side closed/.test(cause.message ?? '');
}
