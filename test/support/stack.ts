import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import pg from 'pg';
import { NatsClient, openConfigBucket } from '@app/messaging';
import { spawnApp, type AppName } from '../../scripts/local-stack.js';
import { freePort, isListening } from './ports.js';
import { waitFor } from './wait.js';

export const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const LOG_DIR = join(tmpdir(), 'event-service-tests');

const MAIN_PORT_VAR: Partial<Record<AppName, string>> = { api: 'API_PORT', ingest: 'INGEST_PORT', 'websocket-gateway': 'GATEWAY_PORT' };

export interface StackOptions {
  apps?: readonly AppName[];
  /** Extra environment for every app (for example a NATS_URL through a TCP proxy). */
  env?: NodeJS.ProcessEnv;
  /** Extra environment for one app. */
  appEnv?: Partial<Record<AppName, NodeJS.ProcessEnv>>;
}

/** An app's process: its name for the first (`filter-router`), with `#n` for more replicas (`filter-router#2`). */
export type Instance = AppName | `${AppName}#${number}`;
const appOf = (instance: Instance): AppName => instance.split('#')[0] as AppName;

interface RunningApp {
  process: ChildProcess;
  log: string[];
  exited: boolean;
}

/**
 * The real service for one test file: each app in its own process, against
 * the real NATS and PostgreSQL, with its own subject prefix, streams, config
 * bucket and database schema, all removed at the end.
 */
export class TestStack {
  readonly id = randomBytes(4).toString('hex');
  readonly prefix = `t${this.id}`;
  readonly schema = `t_${this.id}`;
  readonly token = `test-token-${randomBytes(12).toString('hex')}`;
  readonly publicBaseUrl = 'http://events.test';
  readonly ports = new Map<Instance, { main: number; health: number }>();
  private readonly running = new Map<Instance, RunningApp>();
  private nats: NatsClient | null = null;

  private constructor(readonly options: StackOptions) {}

  static async start(options: StackOptions = {}): Promise<TestStack> {
    const stack = new TestStack(options);
    mkdirSync(LOG_DIR, { recursive: true });
    const apps = options.apps ?? (['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway'] as const);
    // webhook-dispatcher joins when a test asks for it (apps: [..., 'webhook-dispatcher']).
    for (const app of apps) stack.ports.set(app, { main: await freePort(), health: await freePort() });
    // The api first: it creates the schema; the others need nothing from it to start.
    await Promise.all(apps.map((app) => stack.startApp(app)));
    return stack;
  }

  env(instance: Instance): NodeJS.ProcessEnv {
    const app = appOf(instance);
    const ports = this.ports.get(instance)!;
    const mainVar = MAIN_PORT_VAR[app];
    return {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      NATS_URL: NATS_URL,
      NATS_PREFIX: this.prefix,
      DATABASE_URL,
      DATABASE_SCHEMA: this.schema,
      API_TOKEN: this.token,
      PUBLIC_BASE_URL: this.publicBaseUrl,
      HEALTH_PORT: String(ports.health),
      STREAM_MAX_AGE: '1h',
      ...(mainVar ? { [mainVar]: String(ports.main) } : {}),
      ...this.options.env,
      ...this.options.appEnv?.[app],
    };
  }

  /** Starts (or restarts) an instance and waits until it is ready (`ready: false`: until its health listener answers). */
  async startApp(instance: Instance, { ready = true }: { ready?: boolean } = {}): Promise<void> {
    const child = spawnApp(appOf(instance), this.env(instance));
    const file: WriteStream = createWriteStream(join(LOG_DIR, `${this.prefix}-${instance}.log`), { flags: 'a' });
    const entry: RunningApp = { process: child, log: [], exited: false };
    this.running.set(instance, entry);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        file.write(chunk);
        entry.log.push(...chunk.toString().split('\n').filter(Boolean));
        if (entry.log.length > 200) entry.log.splice(0, entry.log.length - 200);
      });
    }
    child.on('exit', () => {
      entry.exited = true;
      file.end();
    });
    if (ready) await this.waitReady(instance);
    else await waitFor(() => this.readiness(instance).then(() => true), { timeoutMs: 30_000, what: `${instance}'s health listener` });
  }

  /** Starts one more replica of an app, with ports of its own; returns its instance name. */
  async startReplica(app: AppName): Promise<Instance> {
    let replica = 2;
    while (this.ports.has(`${app}#${replica}`)) replica += 1;
    const instance: Instance = `${app}#${replica}`;
    this.ports.set(instance, { main: await freePort(), health: await freePort() });
    await this.startApp(instance);
    return instance;
  }

  async waitReady(instance: Instance): Promise<void> {
    const app = appOf(instance);
    const ports = this.ports.get(instance)!;
    const entry = this.running.get(instance)!;
    await waitFor(
      async () => {
        if (entry.exited) throw new Error(`${app} exited during start:\n${entry.log.slice(-20).join('\n')}`);
        const ready = await fetch(`http://127.0.0.1:${ports.health}/readyz`).then((response) => response.ok).catch(() => false);
        return ready && (!MAIN_PORT_VAR[app] || (await isListening(ports.main)));
      },
      { timeoutMs: 30_000, what: `${app} to be ready` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${entry.log.slice(-20).join('\n')}`);
    });
  }

  /** Kills an app's process (SIGKILL by default: no clean-up at all) and waits for it to be gone. */
  async kill(instance: Instance, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const entry = this.running.get(instance);
    if (!entry || entry.exited) return;
    entry.process.kill(signal);
    await waitFor(() => entry.exited, { what: `${instance} to exit` });
  }

  async readiness(instance: Instance): Promise<Record<string, any>> {
    const response = await fetch(`http://127.0.0.1:${this.ports.get(instance)!.health}/readyz`);
    return (await response.json()) as Record<string, any>;
  }

  /** Waits until every running data-path app has applied the newest config the api published. */
  async waitForConfig(): Promise<void> {
    const bucket = await openConfigBucket(await this.natsClient());
    const status = await bucket.status();
    const revision = status.streamInfo.state.last_seq;
    for (const [instance, entry] of this.running) {
      if (entry.exited || !['filter-router', 'websocket-gateway'].includes(appOf(instance))) continue;
      await waitFor(async () => (await this.readiness(instance)).configRevision >= revision, { what: `${instance} to apply config ${revision}` });
    }
  }

  /**
   * Waits until filter-router has routed and acked every ingested event and
   * the gateway (when running) has forwarded every websocket delivery stored
   * (exactly `deliveries` of them, when given).
   */
  async waitForRoutingDone(deliveries?: number): Promise<void> {
    const nats = await this.natsClient();
    await waitFor(
      async () => {
        const profiles = await nats.manager.consumers.info(nats.topology.streams.events, 'profile-sync');
        if (profiles.num_pending !== 0 || profiles.num_ack_pending !== 0) return false;
        const router = await nats.manager.consumers.info(nats.topology.streams.routable, 'filter-router');
        const stored = (await nats.manager.streams.info(nats.topology.streams.deliveries)).state.messages;
        const gatewayRunning = this.running.has('websocket-gateway') && !this.running.get('websocket-gateway')!.exited;
        const forwarded = gatewayRunning ? ((await this.readiness('websocket-gateway')).forwarded as number) : stored;
        return router.num_pending === 0 && router.num_ack_pending === 0 && forwarded === stored && (deliveries === undefined || stored === deliveries);
      },
      { what: 'routing and forwarding to finish' },
    );
  }

  url(app: AppName, path: string): string {
    return `http://127.0.0.1:${this.ports.get(app)!.main}${path}`;
  }

  websocketUrl(endpointId: string): string {
    return `ws://127.0.0.1:${this.ports.get('websocket-gateway')!.main}/event-service/ws?endpoint_id=${encodeURIComponent(endpointId)}`;
  }

  /** A GraphQL call to the api, with the stack's token unless another is given. */
  async graphql<T = any>(query: string, variables: Record<string, unknown> = {}, token: string | null = this.token): Promise<{ data: T; errors?: Array<{ message: string; extensions: Record<string, any> }> }> {
    const response = await fetch(this.url('api', '/event-service/graphql'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { Token: token } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data: T; errors?: Array<{ message: string; extensions: Record<string, any> }> };
  }

  async createWebsocketEndpoint(name = 'ws endpoint'): Promise<string> {
    const result = await this.graphql('mutation($name: String!) { createWebSocketEndpoint(name: $name) { id } }', { name });
    if (result.errors) throw new Error(result.errors[0]!.message);
    return result.data.createWebSocketEndpoint.id as string;
  }

  /** Creates an event filter and returns its id. */
  async createEventFilter(input: { name?: string; endpointIds?: string[]; in?: Record<string, string[]> }): Promise<string> {
    const result = await this.graphql('mutation($input: EventFiltersInput!) { createEventFilters(eventFiltersInput: $input) { id } }', {
      input: { name: 'filter', ...input },
    });
    if (result.errors) throw new Error(result.errors[0]!.message);
    return result.data.createEventFilters.id as string;
  }

  /** Posts one event to ingest as an agent does over HTTP. */
  async postEvent(body: string | Uint8Array, token: string | null = this.token): Promise<Response> {
    return fetch(this.url('ingest', '/event-service/events'), {
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
    this.nats ??= await NatsClient.connect({
      url: NATS_URL,
      prefix: this.prefix,
      streamMaxAgeMs: 3_600_000,
      duplicateWindowMs: 120_000,
      connectionName: `test-${this.prefix}`,
    });
    return this.nats;
  }

  /** Stops every app and removes the streams, bucket and schema of this stack. */
  async stop(): Promise<void> {
    await Promise.all([...this.running.keys()].map((instance) => this.kill(instance, 'SIGTERM').catch(() => this.kill(instance))));
    const client = await this.natsClient();
    for (const stream of Object.values(client.topology.streams)) {
      await client.manager.streams.delete(stream).catch(() => undefined);
    }
    await client.manager.streams.delete(`KV_${client.topology.configBucket}`).catch(() => undefined);
    await client.manager.streams.delete(`OBJ_${client.topology.imageBucket}`).catch(() => undefined);
    await client.close();
    const db = new pg.Client({ connectionString: DATABASE_URL });
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    await db.end();
  }
}
