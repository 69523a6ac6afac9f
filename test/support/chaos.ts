import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { NatsClient, publishDurably } from '@app/messaging';
import { DEFAULT_SIMULATION, Simulation } from '@app/simulator';
import { APP_NAMES, type AppName } from '../../scripts/local-stack.js';
import { OwnNatsServer } from './nats-server.js';
import { Receiver, type Answer } from './receiver.js';
import { DATABASE_URL, TestStack } from './stack.js';
import { TcpProxy } from './tcp-proxy.js';
import { waitFor } from './wait.js';
import { TestClient } from './ws-client.js';

/** How long each fault lasts, and how hard the load pushes. */
export interface ChaosOptions {
  /** Events published per second, throughout. */
  ratePerSecond: number;
  /** How long a SIGKILLed app stays down before it is started again. */
  killDownMs: number;
  natsDownMs: number;
  postgresCutMs: number;
  /** How long a receiver answers 500, times out, resets, answers 429 or 410. */
  receiverFaultMs: number;
  /** Load between two faults, so each fault's recovery is seen on its own. */
  calmMs: number;
  /** After the last fault: how long everything may take to arrive. */
  settleTimeoutMs: number;
  log: (line: string) => void;
}

/** One fault's figures for one endpoint. */
export interface FaultRow {
  fault: string;
  endpoint: 'webhook' | 'webhook (410)' | 'websocket';
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  /** From the fault's end until every event published during it had arrived; null if some never did. */
  recoverMs: number | null;
  note: string;
}

export interface ChaosResult {
  rows: FaultRow[];
  /** Why the run fails; empty when it passes. */
  failures: string[];
}

type ReceiverMode = 'ok' | '500' | 'timeout' | 'reset' | '429' | '410';

const ANSWERS: Record<ReceiverMode, Answer> = {
  ok: { status: 200 },
  '500': { status: 500 },
  timeout: 'hang', // the dispatcher's timeout ends the attempt
  reset: 'reset',
  '429': { status: 429, headers: { 'retry-after': '1' } },
  '410': { status: 410 },
};

/** A webhook receiver whose behaviour the run switches. */
export class ChaosReceiver {
  mode: ReceiverMode = 'ok';

  private constructor(private readonly receiver: Receiver) {}

  static async start(): Promise<ChaosReceiver> {
    let chaos!: ChaosReceiver;
    chaos = new ChaosReceiver(await Receiver.start(() => ANSWERS[chaos.mode]));
    return chaos;
  }

  get url(): string {
    return this.receiver.url;
  }

  /** webhook-id → times it was answered 2xx, and when first. */
  successes(): Map<string, { count: number; firstAt: number }> {
    const successes = new Map<string, { count: number; firstAt: number }>();
    for (const request of this.receiver.requests) {
      if (request.status === null || request.status < 200 || request.status >= 300) continue;
      const id = request.headers['webhook-id']!;
      const seen = successes.get(id);
      if (seen) seen.count += 1;
      else successes.set(id, { count: 1, firstAt: request.at });
    }
    return successes;
  }

  /** The webhook-id of every request, in the order they arrived. */
  requestIds(): string[] {
    return this.receiver.requests.map((request) => request.headers['webhook-id']!);
  }

  close(): Promise<void> {
    return this.receiver.close();
  }
}

/**
 * A websocket client as an integrator runs it: when the gateway drops it,
 * it reconnects (to the next gateway of `urls`, when there are several) and
 * resumes after the last event it received (`last_event_id`). Remembers
 * every event's arrivals in order, and when it was away.
 */
export class ChaosWebsocket {
  client: TestClient | null = null;
  readonly arrivals = new Map<string, { count: number; firstAt: number }>();
  /** Event ids in the order they first arrived. */
  readonly order: string[] = [];
  readonly outages: Array<{ from: number; to: number | null }> = [];
  /** Reconnections refused a resume (the position was gone): events may have been missed. */
  readonly resumesRefused: string[] = [];
  /** Where it connected, in turn: the URL and when (performance.now()). */
  readonly connections: Array<{ url: string; at: number }> = [];
  private lastEventId: string | null = null;
  private attempts = 0;
  private closed = false;

  constructor(
    /** The gateways' websocket URLs for the endpoint, tried in turn. */
    private readonly urls: () => string[],
  ) {}

  /** Connections made after a drop (resumes). */
  get resumes(): number {
    return this.outages.length;
  }

  async connect(): Promise<void> {
    for (;;) {
      const urls = this.urls();
      const url = urls[this.attempts++ % urls.length]! + (this.lastEventId ? `&last_event_id=${this.lastEventId}` : '');
      try {
        // Listening from the socket's creation: a resume's first frames come with the handshake's answer.
        // A connection never opened is retried here; one that opened and closed, by its close.
        let opened = false;
        const client = await TestClient.connect(url, {
          onOpen: () => (opened = true),
          onFrame: (text) => {
            const id = (JSON.parse(text) as { event: { id: string } }).event.id;
            this.lastEventId = id;
            const seen = this.arrivals.get(id);
            if (seen) seen.count += 1;
            else {
              this.arrivals.set(id, { count: 1, firstAt: performance.now() });
              this.order.push(id);
            }
          },
          onClose: (code, reason) => {
            if (this.closed || !opened) return;
            if (code === 4416) this.resumesRefused.push(`${this.lastEventId}: ${reason}`);
            this.outages.push({ from: performance.now(), to: null });
            void this.connect();
          },
        });
        // Closed in the instant it opened: its close has started the next attempt.
        if (client.closeEvent) return;
        this.client = client;
        this.connections.push({ url, at: performance.now() });
        const open = this.outages.at(-1);
        if (open && open.to === null) open.to = performance.now();
        return;
      } catch {
        if (this.closed) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Whether the client was connected from `from` to `to`. */
  connectedThroughout(from: number, to: number): boolean {
    return this.outages.every((outage) => (outage.to ?? Infinity) < from || outage.from > to);
  }

  close(): void {
    this.closed = true;
    this.client?.close();
  }
}

/** Events published while one phase of a chaos run lasted, with the camera each is of. */
export interface PublishedEvent {
  id: string;
  camera: string;
  phase: string;
  /** An identification of deleted profiles only, published after their deletion: profile-sync stores it as a lost event, and nobody receives it. */
  lost: boolean;
}

/**
 * The load of a chaos run: the agent simulator's site (its catalogue
 * announced first, then its event mix), each event published on its agent's
 * subject and retried until JetStream acks it (as an agent does), one after
 * another at `ratePerSecond`: the order they were published in is each
 * camera's order. Each event is labelled with the phase it was published in.
 * With `deleteEvery`, the platform deletes a profile every that many events
 * (on the lifecycle subject, stored before the next event is published) and
 * the next event identifies that profile alone: it must be lost, not delivered.
 */
export class ChaosLoad {
  /** Set by the run as its faults come and go. */
  phase = 'warm-up';
  readonly published: PublishedEvent[] = [];
  private loading = true;
  private running: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: NatsClient,
    private readonly simulation: Simulation,
  ) {}

  static async start(client: NatsClient, { seed, ratePerSecond, deleteEvery = 0 }: { seed: number; ratePerSecond: number; deleteEvery?: number }): Promise<ChaosLoad> {
    const simulation = new Simulation({ ...DEFAULT_SIMULATION, seed, deleteEvery });
    for (const profile of simulation.profiles) {
      await publishDurably(client, client.topology.profileUpserted, new TextEncoder().encode(JSON.stringify(profile)), { messageId: `profile:${profile.id}`, timeoutMs: 5_000 });
    }
    const load = new ChaosLoad(client, simulation);
    load.running = load.run(1_000 / ratePerSecond);
    return load;
  }

  /** Stops publishing, once the event in hand is stored. */
  async stop(): Promise<void> {
    this.loading = false;
    await this.running;
  }

  private async run(interval: number): Promise<void> {
    let next = performance.now();
    const deleted = new Set<string>();
    /** Publishes until the stream acks it (false: the load was stopped first). */
    const durably = async (subject: string, data: Uint8Array, messageId: string): Promise<boolean> => {
      for (;;) {
        try {
          await publishDurably(this.client, subject, data, { messageId, timeoutMs: 2_000 });
          return true;
        } catch {
          if (!this.loading) return false;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    };
    while (this.loading) {
      const message = this.simulation.next();
      if (message.kind === 'profile-deleted') {
        if (!(await durably(this.client.topology.profileDeleted, new TextEncoder().encode(JSON.stringify({ id: message.id })), `profile-deleted:${message.id}`))) return;
        deleted.add(message.id);
        continue;
      }
      const event = message.event as { event: { id: string }; camera: { id: string }; candidates?: Array<{ profile: { id: string } }> };
      const data = new TextEncoder().encode(JSON.stringify(message.event));
      const phase = this.phase;
      if (!(await durably(this.client.topology.agentEvents(message.agentId), data, event.event.id))) return;
      const candidates = event.candidates ?? [];
      const lost = candidates.length > 0 && candidates.every((candidate) => deleted.has(candidate.profile.id));
      this.published.push({ id: event.event.id, camera: event.camera.id, phase, lost });
      next += interval;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, next - performance.now())));
    }
  }
}

/**
 * One fault's figures at one receiver: of the events published while it
 * lasted (`ids`), how many arrived (or are in `extra`: kept as failed), were
 * lost or came twice, and the time from the fault's end until the last of them arrived.
 */
export function faultFigures(
  ids: string[],
  window: { end: number },
  arrivals: Map<string, { count: number; firstAt: number }>,
  extra: ReadonlySet<string> = new Set(),
): Pick<FaultRow, 'expected' | 'delivered' | 'lost' | 'duplicated' | 'recoverMs'> {
  const delivered = ids.filter((id) => arrivals.has(id) || extra.has(id));
  const lastArrival = Math.max(window.end, ...delivered.map((id) => arrivals.get(id)?.firstAt ?? window.end));
  return {
    expected: ids.length,
    delivered: delivered.length,
    lost: ids.length - delivered.length,
    duplicated: ids.filter((id) => (arrivals.get(id)?.count ?? 0) > 1).length,
    recoverMs: delivered.length === ids.length ? Math.round(lastArrival - window.end) : null,
  };
}

/** Prints a chaos run's table and exits: non-zero, with the failures, when it failed; `passed` when it passed. */
export function reportChaos(result: ChaosResult, passed: string): never {
  process.stdout.write(`\n${formatRows(result.rows)}\n\n`);
  if (result.failures.length > 0) {
    process.stdout.write(`FAILED:\n${result.failures.map((failure) => `  - ${failure}`).join('\n')}\n`);
    process.exit(1);
  }
  process.stdout.write(`PASSED: ${passed}\n`);
  process.exit(0);
}

export interface Phase {
  name: string;
  /** Duplicates allowed: work in flight when a process or the broker went away. */
  duplicatesAllowed: number;
  run: () => Promise<void>;
}

/**
 * The chaos run: a load generator keeps events flowing to a webhook and a
 * websocket endpoint while, in turn, every app is SIGKILLed and restarted,
 * NATS (a server of the run's own) is restarted, PostgreSQL is cut through a
 * TCP proxy, and the receiver answers 500, times out, resets, answers 429
 * with Retry-After, and (a second webhook endpoint) 410. Reports, per fault
 * and endpoint, events expected, delivered, lost, duplicated and the time to
 * recover.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const { log } = options;
  const nats = await OwnNatsServer.start();
  const postgres = await TcpProxy.start(5432);
  const receiver = await ChaosReceiver.start();
  const goneReceiver = await ChaosReceiver.start();
  let stack: TestStack | null = null;
  let publisher: NatsClient | null = null;
  let websocket: ChaosWebsocket | null = null;
  try {
    stack = await TestStack.start({
      apps: APP_NAMES,
      env: {
        NATS_URL: nats.url,
        DATABASE_URL: `postgres://postgres@127.0.0.1:${postgres.port}/test`,
        WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
        WEBHOOK_TIMEOUT: '2s',
        WEBHOOK_RETRY_SCHEDULE: '1s,2s,4s,8s,15s,30s,30s,30s,30s,30s,30s,30s',
        WEBHOOK_PROBE_INTERVAL: '1s',
        CONFIG_RECONCILE_INTERVAL: '10s',
      },
    });
    const running = stack;
    const hookId = await createWebhook(running, 'chaos', receiver.url);
    const goneId = await createWebhook(running, 'chaos 410', goneReceiver.url);
    const wsId = await running.createWebsocketEndpoint('chaos');
    websocket = new ChaosWebsocket(() => [running.websocketUrl(wsId)]);
    await websocket.connect();
    await waitFor(async () => (await running.readiness('filter-router')).endpoints === 3, { what: 'filter-router to know the three endpoints' });
    await waitFor(async () => (await running.readiness('webhook-dispatcher')).ready, { what: 'the dispatcher to be ready' });

    // The load: events published on an agent's subject, each retried until JetStream acks it (as an agent does).
    publisher = await NatsClient.connect({ url: nats.url, prefix: running.prefix, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 120_000, connectionName: 'chaos-load' });
    const client = publisher;
    const load = await ChaosLoad.start(client, { seed: 11, ratePerSecond: options.ratePerSecond });
    const phaseOf = () => new Map(load.published.map((event) => [event.id, event.phase]));

    const calm = () => new Promise((resolve) => setTimeout(resolve, options.calmMs));
    const receiverFault = (target: ChaosReceiver, mode: ReceiverMode) => async () => {
      target.mode = mode;
      await new Promise((resolve) => setTimeout(resolve, options.receiverFaultMs));
      target.mode = 'ok';
    };
    const phases: Phase[] = [
      ...APP_NAMES.map(
        (app): Phase => ({
          name: `SIGKILL ${app}`,
          duplicatesAllowed: 16,
          run: async () => {
            await running.kill(app, 'SIGKILL');
            await new Promise((resolve) => setTimeout(resolve, options.killDownMs));
            await running.startApp(app);
          },
        }),
      ),
      {
        name: 'NATS restart',
        duplicatesAllowed: 16,
        run: async () => {
          await nats.halt();
          await new Promise((resolve) => setTimeout(resolve, options.natsDownMs));
          await nats.resume();
        },
      },
      {
        name: `PostgreSQL cut ${Math.round(options.postgresCutMs / 1_000)} s (receiver failing at first)`,
        duplicatesAllowed: 0,
        run: async () => {
          postgres.cut();
          // The receiver fails at first too: those failures are parked once PostgreSQL is back.
          receiver.mode = '500';
          await new Promise((resolve) => setTimeout(resolve, options.receiverFaultMs));
          receiver.mode = 'ok';
          await new Promise((resolve) => setTimeout(resolve, options.postgresCutMs - options.receiverFaultMs));
          postgres.restore();
        },
      },
      { name: 'receiver answers 500', duplicatesAllowed: 0, run: receiverFault(receiver, '500') },
      { name: 'receiver times out', duplicatesAllowed: 0, run: receiverFault(receiver, 'timeout') },
      { name: 'receiver resets', duplicatesAllowed: 0, run: receiverFault(receiver, 'reset') },
      { name: 'receiver answers 429 + Retry-After', duplicatesAllowed: 0, run: receiverFault(receiver, '429') },
      { name: 'receiver answers 410', duplicatesAllowed: 0, run: receiverFault(goneReceiver, '410') },
    ];

    await calm();
    const windows = new Map<string, { start: number; end: number; duplicatesAllowed: number }>();
    for (const step of phases) {
      log(`fault: ${step.name}`);
      const start = performance.now();
      load.phase = step.name;
      await step.run();
      load.phase = `after ${step.name}`;
      const end = performance.now();
      windows.set(step.name, { start, end, duplicatesAllowed: step.duplicatesAllowed });
      await calm();
    }
    await load.stop();
    log(`load stopped after ${load.published.length} events; waiting for them to arrive`);

    const published = phaseOf();
    const allIds = [...published.keys()];
    await waitFor(() => {
      const delivered = receiver.successes();
      return allIds.every((id) => delivered.has(id));
    }, { timeoutMs: options.settleTimeoutMs, intervalMs: 250, what: 'every event at the webhook receiver' }).catch(
      (error: Error) => log(error.message),
    );
    await waitFor(() => allIds.every((id) => websocket!.arrivals.has(id)), { timeoutMs: 30_000, intervalMs: 250, what: 'every event at the websocket client' }).catch(() => undefined);
    // The 410 endpoint's events: delivered before the fault, or kept as failed once their changes are projected.
    const goneIds = allIds.filter((id) => published.get(id) === 'receiver answers 410');
    let keptAsFailed = new Set<string>();
    await waitFor(
      async () => {
        keptAsFailed = await failedDeliveries(running.schema, goneId);
        const delivered = goneReceiver.successes();
        return goneIds.every((id) => delivered.has(id) || keptAsFailed.has(id));
      },
      { timeoutMs: 30_000, intervalMs: 500, what: "the 410 endpoint's deliveries to be kept as failed" },
    ).catch((error: Error) => log(error.message));
    const failures: string[] = [];
    if (websocket.resumesRefused.length > 0) failures.push(`the websocket client could not resume: ${websocket.resumesRefused.join('; ')}`);
    // Every attempt made, PostgreSQL cut or not, is in the delivery log once it is back.
    const logged = await waitFor(
      async () => {
        const lines = await succeededAttempts(running.schema, hookId);
        return [...receiver.successes().keys()].every((id) => lines.has(id)) ? lines : null;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'every delivered event in the delivery log' },
    ).catch(() => null);
    if (!logged) failures.push('some delivered webhook events are missing from the delivery log');
    // An outage is not a poison message: the run sends no bad input, so no dead letters at all.
    const deadLetters = (await client.manager.streams.info(client.topology.streams.deadLetters)).state.messages;
    if (deadLetters > 0) failures.push(`${deadLetters} messages went to the dead letters`);
    log(`dead letters: ${deadLetters}; delivery log complete: ${logged !== null}`);

    const rows: FaultRow[] = [];
    for (const [name, window] of windows) {
      // The fault's events: those published while it lasted.
      const ids = allIds.filter((id) => published.get(id) === name);
      const figures = (arrivals: Map<string, { count: number; firstAt: number }>, extra: ReadonlySet<string> = new Set()) => faultFigures(ids, window, arrivals, extra);
      const hook = figures(receiver.successes());
      rows.push({ fault: name, endpoint: 'webhook', ...hook, note: '' });
      if (hook.lost > 0) failures.push(`${name}: ${hook.lost} webhook events lost`);
      if (hook.duplicated > window.duplicatesAllowed) failures.push(`${name}: ${hook.duplicated} webhook events delivered twice (allowed ${window.duplicatesAllowed})`);

      const gone = figures(goneReceiver.successes(), keptAsFailed);
      if (name === 'receiver answers 410') {
        rows.push({ fault: name, endpoint: 'webhook (410)', ...gone, note: `${ids.filter((id) => keptAsFailed.has(id)).length} kept as failed for resendDelivery` });
        if (gone.lost > 0) failures.push(`${name}: ${gone.lost} events neither delivered nor kept as failed`);
      }

      const connected = websocket.connectedThroughout(window.start, window.end + options.calmMs);
      const ws = figures(websocket.arrivals);
      rows.push({ fault: name, endpoint: 'websocket', ...ws, note: connected ? 'connected throughout' : 'dropped, resumed with last_event_id' });
      if (ws.lost > 0) failures.push(`${name}: ${ws.lost} websocket events lost by a client that ${connected ? 'stayed connected' : 'resumed'}`);
    }
    // The whole run: every event, including those published between faults.
    const delivered = receiver.successes();
    const everyLost = allIds.filter((id) => !delivered.has(id)).length;
    const everyDuplicated = allIds.filter((id) => (delivered.get(id)?.count ?? 0) > 1).length;
    const allowedInTotal = [...windows.values()].reduce((sum, window) => sum + window.duplicatesAllowed, 0);
    rows.push({ fault: 'whole run', endpoint: 'webhook', expected: allIds.length, delivered: allIds.length - everyLost, lost: everyLost, duplicated: everyDuplicated, recoverMs: null, note: 'every event published' });
    if (everyLost > 0) failures.push(`whole run: ${everyLost} webhook events lost`);
    if (everyDuplicated > allowedInTotal) failures.push(`whole run: ${everyDuplicated} webhook events delivered twice (allowed ${allowedInTotal})`);
    return { rows, failures };
  } finally {
    websocket?.close();
    await publisher?.close().catch(() => undefined);
    await stack?.stop().catch((error: Error) => log(`stack clean-up: ${error.message}`));
    await Promise.all([receiver.close(), goneReceiver.close(), postgres.close(), nats.stop()]);
  }
}

async function createWebhook(stack: TestStack, name: string, url: string): Promise<string> {
  const result = await stack.graphql('mutation($name: String!, $url: String!) { createWebhookEndpoint(name: $name, url: $url) { id } }', { name, url });
  if (result.errors) throw new Error(result.errors[0]!.message);
  return result.data.createWebhookEndpoint.id as string;
}

/** Event ids of the endpoint's deliveries kept as failed (for resendDelivery). */
async function failedDeliveries(schema: string, endpointId: string): Promise<Set<string>> {
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const result = await db.query<{ event_id: string }>(`SELECT event_id FROM ${schema}.delivery_retry WHERE endpoint_id = $1 AND failed_at IS NOT NULL`, [endpointId]);
    return new Set(result.rows.map((row) => row.event_id));
  } finally {
    await db.end();
  }
}

/** Event ids with a SUCCEEDED line in the endpoint's delivery log. */
async function succeededAttempts(schema: string, endpointId: string): Promise<Set<string>> {
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const result = await db.query<{ event_id: string }>(`SELECT event_id FROM ${schema}.delivery_attempt WHERE endpoint_id = $1 AND outcome = 'SUCCEEDED'`, [endpointId]);
    return new Set(result.rows.map((row) => row.event_id));
  } finally {
    await db.end();
  }
}

/** The table docs/reliability.md shows. */
export function formatRows(rows: FaultRow[]): string {
  const header = ['fault', 'endpoint', 'expected', 'delivered', 'lost', 'duplicated', 'recovered after', 'note'];
  const lines = rows.map((row) => [
    row.fault,
    row.endpoint,
    String(row.expected),
    String(row.delivered),
    String(row.lost),
    String(row.duplicated),
    row.recoverMs === null ? (row.lost > 0 ? 'never' : '') : `${(row.recoverMs / 1_000).toFixed(1)} s`,
    row.note,
  ]);
  return [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export type { AppName };
