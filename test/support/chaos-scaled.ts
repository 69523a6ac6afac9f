import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DeliverPolicy } from '@nats-io/jetstream';
import { NatsClient, WebsocketPositions } from '@app/messaging';
import { ChaosLoad, ChaosReceiver, ChaosWebsocket, faultFigures, type ChaosResult, type FaultRow, type Phase } from './chaos.js';
import { startNatsCluster } from './nats-cluster.js';
import type { OwnNatsServer } from './nats-server.js';
import { TestStack, type Instance } from './stack.js';
import { waitFor } from './wait.js';

/** How long each fault lasts, and how hard the load pushes. */
export interface ScaledChaosOptions {
  /** Events published per second, throughout. */
  ratePerSecond: number;
  /** How long a SIGKILLed replica, and the killed NATS server, stay down. */
  downMs: number;
  /** Load between two faults, so each fault's recovery is seen on its own. */
  calmMs: number;
  /** After the last fault: how long everything may take to arrive. */
  settleTimeoutMs: number;
  log: (line: string) => void;
}

export interface ScaledChaosResult extends ChaosResult {
  /** Every partition handover the apps logged, in the order of their logs. */
  handovers: string[];
}

/** The data-path apps, three replicas of each. */
const DATA_PATH = ['ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'] as const;
const REPLICAS = 3;
/** Gateways the websocket clients connect to, one client on each at first. */
const CLIENTS = 3;

/**
 * The chaos run at scale (`npm run chaos:scaled`, docs/reliability.md):
 * three replicas of each data-path app on a three-node JetStream cluster
 * with NATS_REPLICAS=3, the simulator's events flowing on its agents'
 * subjects, while it kills one replica of each app (SIGKILL), kills the
 * server leading the events stream, adds replicas and stops others
 * (SIGTERM: their partitions are handed over while events are in flight).
 * The platform deletes a profile every 25 events; the identification of it
 * that follows must be stored as a lost event and reach nobody.
 * A webhook receiver and websocket clients on every gateway (resuming with
 * `last_event_id` when theirs goes away) check that nothing is lost, nothing
 * repeated beyond what was in flight at a kill, each camera's events arrive
 * in the order its agent published them (websocket frames, and the
 * webhook's first attempts), and nothing is dead-lettered.
 */
export async function runScaledChaos(options: ScaledChaosOptions): Promise<ScaledChaosResult> {
  const { log } = options;
  const servers: OwnNatsServer[] = await startNatsCluster();
  const receiver = await ChaosReceiver.start();
  let stack: TestStack | null = null;
  let publisher: NatsClient | null = null;
  const clients: ChaosWebsocket[] = [];
  const instances = new Map<string, Instance[]>();
  try {
    stack = await TestStack.start({
      apps: ['api', ...DATA_PATH],
      nats: { url: servers.map((server) => server.url).join(','), prefix: `s${randomBytes(4).toString('hex')}` },
      env: {
        NATS_REPLICAS: '3',
        WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
        WEBHOOK_TIMEOUT: '2s',
        // One request at a time to the endpoint: the receiver sees the first attempts in the order they were sent.
        WEBHOOK_ENDPOINT_CONCURRENCY: '1',
        WEBHOOK_RETRY_SCHEDULE: '1s,2s,4s,8s,15s,30s,30s,30s,30s,30s',
        CONFIG_RECONCILE_INTERVAL: '10s',
        WS_FEED_LINGER: '2s',
      },
      // Each delivery a gateway sends live is in its log: a websocket loss can be traced to the gateway that missed it.
      // The gateways read with one consumer for all their endpoints, as a replica with many endpoints does (the other
      // suites read with one per endpoint).
      appEnv: { 'websocket-gateway': { LOG_LEVEL: 'debug', WS_SHARED_FEED_ENDPOINTS: '1' } },
    });
    const running = stack;
    for (const app of DATA_PATH) {
      instances.set(app, [app]);
      for (let replica = 1; replica < REPLICAS; replica += 1) instances.get(app)!.push(await running.startReplica(app, { readyTimeoutMs: 120_000 }));
    }
    log(`three replicas of ${DATA_PATH.join(', ')} on a three-node cluster`);
    await running.createWebhookEndpoint(receiver.url, 'chaos at scale');
    const wsId = await running.createWebsocketEndpoint('chaos at scale');
    await running.waitForConfig();
    // Each client starts on a gateway of its own, and goes to the next one alive when its own is killed.
    const gatewayUrls = (first: number) => () => {
      const alive = instances.get('websocket-gateway')!.filter((instance) => running.isRunning(instance));
      const ordered = [...alive.slice(first % alive.length), ...alive.slice(0, first % alive.length)];
      return ordered.map((instance) => running.url(instance, `/event-service/ws?endpoint_id=${wsId}`).replace(/^http/, 'ws'));
    };
    for (let index = 0; index < CLIENTS; index += 1) {
      const client = new ChaosWebsocket(gatewayUrls(index));
      await client.connect();
      clients.push(client);
    }

    // The load, one event after the other: the order they were published in is the order each camera's events must arrive in.
    publisher = await NatsClient.connect({ url: servers.map((server) => server.url).join(','), prefix: running.prefix, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 120_000, connectionName: 'chaos-load' });
    const nats = publisher;
    // A profile deleted every 25 events, each followed by an identification of it alone: lost in every profile-sync replica, whichever holds its camera.
    const load = await ChaosLoad.start(nats, { seed: 25, ratePerSecond: options.ratePerSecond, deleteEvery: 25 });
    const { published } = load;

    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    /**
     * What a kill may repeat: what was in flight then. The events published
     * and not yet at the receiver or client furthest behind, and a second of
     * the load besides: what a replica did since it last wrote its partitions'
     * positions is done again by the next holder (the dispatcher writes them
     * every quarter second; the other apps at most every second, and what they
     * do again is stored once, by its message id).
     */
    let inFlightAtKill = 0;
    const killed = () => {
      const furthestBehind = Math.min(receiver.successes().size, ...clients.map((client) => client.arrivals.size));
      inFlightAtKill = published.filter((event) => !event.lost).length - furthestBehind + options.ratePerSecond;
    };
    const faults: Phase[] = [
      ...DATA_PATH.map(
        (app): Phase => ({
          name: `SIGKILL one ${app}`,
          duplicatesAllowed: 0,
          run: async () => {
            const victim = instances.get(app)![1]!;
            killed();
            await running.kill(victim, 'SIGKILL');
            await pause(options.downMs);
            await running.startApp(victim, { readyTimeoutMs: 120_000 });
          },
        }),
      ),
      {
        name: 'SIGKILL the NATS server leading the events stream',
        duplicatesAllowed: 0,
        run: async () => {
          const leader = (await nats.manager.streams.info(nats.topology.streams.events)).cluster?.leader;
          const victim = servers.find((_, position) => `n${position + 1}` === leader) ?? servers[0]!;
          log(`killing ${leader}`);
          killed();
          await victim.halt('SIGKILL');
          await pause(options.downMs);
          await victim.resume();
        },
      },
      {
        name: 'a replica added to profile-sync, filter-router and the dispatcher',
        duplicatesAllowed: 0,
        run: async () => {
          for (const app of ['profile-sync', 'filter-router', 'webhook-dispatcher'] as const) instances.get(app)!.push(await running.startReplica(app, { readyTimeoutMs: 120_000 }));
        },
      },
      {
        name: 'a replica of each stopped (SIGTERM)',
        duplicatesAllowed: 0,
        run: async () => {
          for (const app of DATA_PATH) {
            const leaving = instances.get(app)!.shift()!;
            await running.kill(leaving, 'SIGTERM');
          }
        },
      },
    ];

    await pause(options.calmMs);
    const windows = new Map<string, { start: number; end: number; duplicatesAllowed: number }>();
    for (const fault of faults) {
      log(`fault: ${fault.name}`);
      const start = performance.now();
      load.phase = fault.name;
      inFlightAtKill = 0;
      await fault.run();
      // The fault counts as met under load once an event begun during it is stored: one held up by the fault (the
      // events stream without a leader for as long as the server was down) was begun before it, and counts there.
      await waitFor(() => load.published.some((event) => event.phase === fault.name), { timeoutMs: 60_000, what: `an event published during "${fault.name}"` });
      load.phase = `after ${fault.name}`;
      windows.set(fault.name, { start, end: performance.now(), duplicatesAllowed: fault.duplicatesAllowed + inFlightAtKill });
      if (inFlightAtKill > 0) log(`${fault.name}: ${inFlightAtKill} duplicates allowed (in flight at the kill, and a second of the load)`);
      await pause(options.calmMs);
    }
    await load.stop();
    log(`load stopped after ${published.length} events; waiting for them to arrive`);

    const allIds = published.filter((event) => !event.lost).map((event) => event.id);
    const lostIds = published.filter((event) => event.lost).map((event) => event.id);
    await waitFor(() => allIds.every((id) => receiver.successes().has(id)), { timeoutMs: options.settleTimeoutMs, intervalMs: 250, what: 'every event at the webhook receiver' }).catch((error: Error) =>
      log(error.message),
    );
    await waitFor(() => clients.every((client) => allIds.every((id) => client.arrivals.has(id))), { timeoutMs: 60_000, intervalMs: 250, what: 'every event at every websocket client' }).catch(
      (error: Error) => log(error.message),
    );

    const failures: string[] = [];
    // Each identification of a deleted profile was lost (stored as a lost event), and reached nobody.
    const lostQuery = 'query($ids: [ID!]!) { lostEvents(filters: { id: { in: $ids } }) { totalCount } }';
    const storedLost = async () => ((await running.graphql(lostQuery, { ids: lostIds })).data?.lostEvents.totalCount as number | undefined) ?? -1;
    await waitFor(async () => (await storedLost()) === lostIds.length, { timeoutMs: 30_000, intervalMs: 250, what: 'every identification of a deleted profile as a lost event' }).catch(
      (error: Error) => log(error.message),
    );
    const lostStored = await storedLost();
    if (lostStored !== lostIds.length) failures.push(`${lostIds.length} identifications of deleted profiles, ${lostStored} stored as lost events`);
    const requested = new Set(receiver.requestIds());
    const deliveredLost = lostIds.filter((id) => requested.has(id) || clients.some((client) => client.arrivals.has(id)));
    if (deliveredLost.length > 0) failures.push(`${deliveredLost.length} identifications of deleted profiles were delivered (their deletion not applied first)`);
    log(`${lostIds.length} profiles deleted while events flowed; ${lostStored} of their identifications stored as lost, ${deliveredLost.length} delivered`);
    const deadLetters = (await nats.manager.streams.info(nats.topology.streams.deadLetters)).state.messages;
    if (deadLetters > 0) failures.push(`${deadLetters} messages went to the dead letters`);
    for (const [index, client] of clients.entries()) {
      if (client.resumesRefused.length > 0) failures.push(`websocket client ${index + 1} could not resume: ${client.resumesRefused.join('; ')}`);
    }

    // Order: each camera's events, in the order they were published, at every client and in the webhook's first attempts.
    const cameraOf = new Map(published.map((event) => [event.id, event.camera]));
    /** The first pair out of order of each camera, as it came: [came, should have come before it]. */
    const disordered: Array<[string, string]> = [];
    const expected = new Map<string, string[]>();
    for (const event of published) expected.set(event.camera, [...(expected.get(event.camera) ?? []), event.id]);
    const at = new Map(published.map((event, index) => [event.id, index]));
    const describe = (id: string | undefined) => (id === undefined ? 'nothing' : `event ${at.get(id)} (${id}, ${published[at.get(id)!]!.phase})`);
    const outOfOrder = (arrivals: string[]): string[] => {
      const seen = new Map<string, string[]>();
      for (const id of arrivals) if (cameraOf.has(id)) seen.set(cameraOf.get(id)!, [...(seen.get(cameraOf.get(id)!) ?? []), id]);
      const wrong: string[] = [];
      for (const [camera, ids] of seen) {
        const want = expected.get(camera)!.filter((id) => ids.includes(id));
        if (want.join() === ids.join()) continue;
        wrong.push(camera);
        // Where the order first broke: what came, and what should have come, by its place in the load.
        const first = ids.findIndex((id, index) => id !== want[index]);
        log(`camera ${camera}: arrival ${first + 1} was ${describe(ids[first])} where ${describe(want[first])} should have come`);
        disordered.push([ids[first]!, want[first]!]);
      }
      return wrong;
    };
    const firstAttempts = [...new Set(receiver.requestIds())];
    const hookDisorder = outOfOrder(firstAttempts);
    if (hookDisorder.length > 0) failures.push(`webhook: the first attempts of ${hookDisorder.length} cameras out of order`);
    for (const [index, client] of clients.entries()) {
      const disorder = outOfOrder(client.order);
      if (disorder.length > 0) failures.push(`websocket client ${index + 1}: ${disorder.length} cameras' events out of order`);
    }

    // Which hop put them out of order: each one's place in each stream of the pipeline.
    if (disordered.length > 0) {
      const wanted = new Set(disordered.flat());
      const places = new Map<string, string[]>();
      for (const stream of [nats.topology.streams.ingress, nats.topology.streams.events, nats.topology.streams.routable]) {
        for (const [id, seq] of await sequencesOf(nats, stream, wanted)) places.set(id, [...(places.get(id) ?? []), `${stream} ${seq}`]);
      }
      for (const [came, before] of disordered.slice(0, 6)) log(`  ${came}: ${(places.get(came) ?? []).join(', ')}; ${before}: ${(places.get(before) ?? []).join(', ')}`);
    }
    const rows: FaultRow[] = [];
    for (const [name, window] of windows) {
      const ids = published.filter((event) => event.phase === name && !event.lost).map((event) => event.id);
      const figures = (arrivals: Map<string, { count: number; firstAt: number }>) => faultFigures(ids, window, arrivals);
      const hook = figures(receiver.successes());
      rows.push({ fault: name, endpoint: 'webhook', ...hook, note: '' });
      if (hook.lost > 0) failures.push(`${name}: ${hook.lost} webhook events lost`);
      if (hook.duplicated > window.duplicatesAllowed) failures.push(`${name}: ${hook.duplicated} webhook events delivered twice (allowed ${window.duplicatesAllowed})`);
      for (const [index, client] of clients.entries()) {
        const ws = figures(client.arrivals);
        const connected = client.connectedThroughout(window.start, window.end + options.calmMs);
        rows.push({ fault: name, endpoint: 'websocket', ...ws, note: `client ${index + 1}: ${connected ? 'connected throughout' : 'dropped, resumed with last_event_id'}` });
        if (ws.lost > 0) failures.push(`${name}: ${ws.lost} events lost by websocket client ${index + 1}`);
        if (ws.duplicated > window.duplicatesAllowed) failures.push(`${name}: ${ws.duplicated} events twice at websocket client ${index + 1}`);
      }
    }
    const delivered = receiver.successes();
    const everyLost = allIds.filter((id) => !delivered.has(id)).length;
    const everyDuplicated = allIds.filter((id) => (delivered.get(id)?.count ?? 0) > 1).length;
    const allowed = [...windows.values()].reduce((sum, window) => sum + window.duplicatesAllowed, 0);
    rows.push({ fault: 'whole run', endpoint: 'webhook', expected: allIds.length, delivered: allIds.length - everyLost, lost: everyLost, duplicated: everyDuplicated, recoverMs: null, note: 'every event published' });
    if (everyLost > 0) failures.push(`whole run: ${everyLost} webhook events lost`);
    if (everyDuplicated > allowed) failures.push(`whole run: ${everyDuplicated} webhook events delivered twice (allowed ${allowed})`);
    for (const [index, client] of clients.entries()) {
      const lost = allIds.filter((id) => !client.arrivals.has(id)).length;
      const duplicated = allIds.filter((id) => (client.arrivals.get(id)?.count ?? 0) > 1).length;
      rows.push({ fault: 'whole run', endpoint: 'websocket', expected: allIds.length, delivered: allIds.length - lost, lost, duplicated, recoverMs: null, note: `client ${index + 1}: ${client.resumes} resumes` });
      if (lost > 0) failures.push(`whole run: ${lost} events lost by websocket client ${index + 1}`);
      if (duplicated > allowed) failures.push(`whole run: ${duplicated} events twice at websocket client ${index + 1} (allowed ${allowed})`);
    }
    for (const [index, client] of clients.entries()) {
      const lost = allIds.filter((id) => !client.arrivals.has(id));
      if (lost.length > 0) log(await traceLosses(running, nats, wsId, `websocket client ${index + 1}`, client, lost, instances.get('websocket-gateway')!));
    }

    // The handovers, as the apps logged them: each partition taken at the position its last holder left it.
    const handovers: string[] = [];
    for (const app of DATA_PATH) {
      const names = new Set([app, ...Array.from({ length: 8 }, (_, index) => `${app}#${index + 2}`)]);
      for (const instance of names) {
        let text = '';
        try {
          text = readFileSync(running.logFileOf(instance as Instance), 'utf8');
        } catch {
          continue;
        }
        for (const line of text.split('\n')) if (/(took|handed) partition \d+ of/.test(line)) handovers.push(`${instance}: ${line.replace(/^.*\[Partitions:[^\]]*\] /, '')}`);
      }
    }
    return { rows, failures, handovers };
  } finally {
    for (const client of clients) client.close();
    await publisher?.close().catch(() => undefined);
    await stack?.stop().catch((error: Error) => log(`stack clean-up: ${error.message}`));
    await receiver.close();
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/**
 * Where a client's lost events were: each one's delivery in the stream (its
 * sequence, when it was stored), and what every gateway logged of it, beside
 * where the client was connected and when. What a failed run prints to
 * tell a gateway that missed a delivery from one never stored.
 */
async function traceLosses(stack: TestStack, nats: NatsClient, endpointId: string, name: string, client: ChaosWebsocket, lost: string[], gateways: Instance[]): Promise<string> {
  const start = performance.timeOrigin;
  const lines = [`${name} lost ${lost.length}; its connections: ${client.connections.map((connection) => `${new Date(start + connection.at).toISOString()} ${connection.url.replace(/\?.*$/, '')}`).join(', ')}`];
  const names = new Set<Instance>(['websocket-gateway', ...gateways, ...Array.from({ length: 8 }, (_, index) => `websocket-gateway#${index + 2}` as Instance)]);
  const logs = new Map<Instance, string[]>();
  for (const instance of names) {
    try {
      logs.set(instance, readFileSync(stack.logFileOf(instance), 'utf8').split('\n'));
    } catch {
      // Never started.
    }
  }
  for (const id of lost.slice(0, 10)) {
    const seq = await WebsocketPositions.find(nats, id, endpointId).catch(() => null);
    const stored = seq === null ? null : await nats.manager.streams.getMessage(nats.topology.streams.deliveries, { seq }).catch(() => null);
    lines.push(`  ${id}: ${stored ? `stored at sequence ${stored.seq}, ${stored.time.toISOString()}` : 'no position recorded in the deliveries stream'}`);
    for (const [instance, text] of logs) for (const line of text.filter((entry) => entry.includes(id))) lines.push(`    ${instance}: ${line.slice(0, 300)}`);
  }
  for (const [instance, text] of logs) for (const line of text.filter((entry) => / (WARN|ERROR) |"level":"(warn|error)"|feed of/.test(entry))) lines.push(`  ${instance}: ${line.slice(0, 300)}`);
  return lines.join('\n');
}

/**
 * Where events are in a stream (its sequence, by the event id in each message's body): what a failed run prints of its
 * disorder. A stream already trimmed (the ingress, once ingest has read it) has nothing to say.
 */
async function sequencesOf(nats: NatsClient, stream: string, ids: Set<string>): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const { state } = await nats.manager.streams.info(stream);
  if (state.messages === 0) return found;
  const consumer = await nats.jetstream.consumers.get(stream, { opt_start_seq: state.first_seq, deliver_policy: DeliverPolicy.StartSequence });
  for (let seq = 0; seq < state.last_seq; ) {
    let got = 0;
    for await (const message of await consumer.fetch({ max_messages: 512, expires: 2_000 })) {
      got += 1;
      seq = message.seq;
      try {
        const id = (JSON.parse(new TextDecoder().decode(message.data)) as { event?: { id?: string } }).event?.id;
        if (id && ids.has(id)) found.set(id, message.seq);
      } catch {
        // Not an event (a profile change).
      }
    }
    if (got === 0) break;
  }
  return found;
}
