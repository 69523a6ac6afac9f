import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError, collect, graphql, parseInstant, table, type ServiceOptions } from './service.js';
import { DEFAULT_MIX, DEFAULT_SIMULATION } from '@app/simulator';
import { actOnDeadLetters, deadLetterTable, listDeadLetters, type DeadLetterOptions } from './dead-letters.js';
import { quickstart } from './quickstart.js';
import { cancelReplay, describeReplay, followReplay, listReplays, readReplay, replayTable, startReplay, type StartOptions } from './replay.js';
import { parseMix, simulate, tallyLines, type SimulateOptions } from './simulate.js';
import { watchEndpoint } from './watch.js';

/**
 * `npx event-service <command>`: the service from a terminal, through its
 * GraphQL API with a token (NATS only where agents themselves use it:
 * `simulate --over nats`). Every command has `--help`.
 */
const program = new Command('event-service')
  .description('Event delivery for video analytics, from a terminal: endpoints, filters, the profile lifecycle, lag, migrations, an agent simulator and a live view.')
  .addOption(new Option('--url <origin>', 'the service’s public origin (GraphQL, images, websockets, events)').env('EVENT_SERVICE_URL').default('http://localhost:8080'))
  .addOption(new Option('--token <token>', 'an API token (default: EVENT_SERVICE_TOKEN, else API_TOKEN)').env('EVENT_SERVICE_TOKEN'))
  .addOption(new Option('--ingest-url <url>', 'ingest’s address, when not behind --url').env('EVENT_SERVICE_INGEST_URL'))
  .addOption(new Option('--websocket-url <url>', 'the websocket gateway’s address, when not behind --url').env('EVENT_SERVICE_WEBSOCKET_URL'))
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

const service = (): ServiceOptions => {
  const { url, token, ingestUrl, websocketUrl } = program.opts<{ url: string; token?: string; ingestUrl?: string; websocketUrl?: string }>();
  return { url, token, ingestUrl, websocketUrl };
};
const say = (line: string) => process.stdout.write(`${line}\n`);

function positive(name: string, { zero = false } = {}) {
  return (text: string) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < (zero ? 0 : 1)) throw new InvalidArgumentError(`${name} must be a whole number ${zero ? 'of 0 or more' : 'above 0'}`);
    return value;
  };
}

program
  .command('endpoints')
  .description('list the endpoints: id, type, state, name')
  .option('--json', 'the API’s answer as JSON')
  .action(async ({ json }: { json?: boolean }) => {
    const data = await graphql<{ endpoints: { totalCount: number; collectionItems: Array<{ id: string; type: string; state: string; name: string }> } }>(
      service(),
      '{ endpoints(pagination: { limit: 1000 }) { totalCount collectionItems { id type state name } } }',
    );
    if (json) {
      say(JSON.stringify(data.endpoints));
      return;
    }
    say(table(['ID', 'TYPE', 'STATE', 'NAME'], data.endpoints.collectionItems.map((item) => [item.id, item.type, item.state, item.name])));
    say(`${data.endpoints.totalCount} endpoints`);
  });

program
  .command('filters')
  .description('list the event filters: id, name, endpoints, conditions')
  .option('--json', 'the API’s answer as JSON')
  .action(async ({ json }: { json?: boolean }) => {
    type Filter = { id: string; name: string; endpoints: Array<{ id: string }>; in: Record<string, string[] | null> };
    const data = await graphql<{ eventsFilters: { totalCount: number; collectionItems: Filter[] } }>(
      service(),
      '{ eventsFilters(pagination: { limit: 1000 }) { totalCount collectionItems { id name endpoints { id } in { cameraIds agentIds profileGroupIds eventTypes } } } }',
    );
    if (json) {
      say(JSON.stringify(data.eventsFilters));
      return;
    }
    const conditions = (filter: Filter) =>
      Object.entries(filter.in)
        .filter(([, values]) => values && values.length > 0)
        .map(([name, values]) => `${name}=${values!.length === 1 ? values![0] : `${values!.length} values`}`)
        .join(' ') || 'every event';
    say(table(['ID', 'NAME', 'ENDPOINTS', 'CONDITIONS'], data.eventsFilters.collectionItems.map((filter) => [filter.id, filter.name, String(filter.endpoints.length), conditions(filter)])));
    say(`${data.eventsFilters.totalCount} filters`);
  });

const profiles = program.command('profiles').description('the platform’s profile lifecycle, through the API (docs/profiles.md): for platforms without a NATS client');
profiles
  .command('upsert')
  .description('a profile created or changed, with its complete list of watchlists (ADMIN token)')
  .argument('<profile-id>', 'the profile’s UUID')
  .option('--group <id[:color]>', 'a watchlist it is on (repeat for each)', (value: string, previous: string[]) => [...previous, value], [] as string[])
  .action(async (id: string, { group }: { group: string[] }) => {
    const groups = group.map((text) => {
      const [groupId, color] = text.split(/:(.*)/s);
      return { id: groupId, color: color || null };
    });
    await graphql(service(), 'mutation($id: ID!, $groups: [ProfileGroupInput!]!) { upsertProfile(id: $id, profileGroups: $groups) }', { id, groups });
    say(`profile ${id} upserted with ${groups.length} watchlists`);
  });
profiles
  .command('delete')
  .description('a profile deleted: events stored from now on lose it as a candidate (ADMIN token)')
  .argument('<profile-id>', 'the profile’s UUID')
  .action(async (id: string) => {
    await graphql(service(), 'mutation($id: ID!) { deleteProfile(id: $id) }', { id });
    say(`profile ${id} deleted`);
  });

program
  .command('lag')
  .description('each durable consumer of the data path: messages pending, in hand (ack pending) and redelivered')
  .option('--json', 'the API’s answer as JSON')
  .action(async ({ json }: { json?: boolean }) => {
    type Lag = { app: string; stream: string; consumer: string; exists: boolean; pending: number; ackPending: number; redelivered: number };
    const data = await graphql<{ consumerLag: Lag[] }>(service(), '{ consumerLag { app stream consumer exists pending ackPending redelivered } }');
    if (json) {
      say(JSON.stringify(data.consumerLag));
      return;
    }
    say(
      table(
        ['APP', 'CONSUMER', 'STREAM', 'PENDING', 'ACK PENDING', 'REDELIVERED'],
        data.consumerLag.map((lag) => [lag.app, lag.consumer, lag.stream, lag.exists ? String(lag.pending) : 'not created yet', String(lag.ackPending), String(lag.redelivered)]),
      ),
    );
  });

const replay = program
  .command('replay')
  .description('replay jobs, run by the webhook-dispatcher (docs/operations.md, Replays): re-deliver an endpoint’s deliveries of a time range, or re-route a time range through today’s filters');
replay
  .command('start')
  .description('start a replay job and follow it to its end with a progress bar (ADMIN token); Ctrl-C leaves it running')
  .option('--kind <kind>', 'redeliver: one endpoint’s deliveries again; reroute: the events through today’s filters, to the endpoints that missed them')
  .option('--endpoint <id>', 'the endpoint a redeliver sends to')
  .option('--from <when>', 'the range’s start: a date-time, or how long ago (2h, 7d)', parseInstant('--from'))
  .option('--to <when>', 'the range’s end (default: now)', parseInstant('--to'))
  .option('--like <job id>', 'the same kind, endpoint, range and rate as an earlier job (a dry run), its range ending where that job’s read ended')
  .option('--dry-run', 'count what would be sent, by endpoint; send nothing')
  .option('--rate <n>', 'deliveries a second for this job (default: the workers’ REPLAY_RATE_PER_SECOND)', positive('--rate'))
  .option('--no-wait', 'print the job’s id and return at once')
  .option('--json', 'the job as JSON (at its end, unless --no-wait)')
  .action(async (options: Partial<Omit<StartOptions, 'dryRun'>> & { like?: string; dryRun?: boolean; wait: boolean; json?: boolean }) => {
    const like = options.like ? await readReplay(service(), options.like) : null;
    const kind = options.kind ?? like?.kind;
    const from = options.from ?? (like ? new Date(like.from) : undefined);
    if (!kind) throw new CliError('--kind is required (or --like <job id>)');
    if (!from) throw new CliError('--from is required (or --like <job id>)');
    // An earlier job read nothing stored after it was created: the same range ends there too.
    const to = options.to ?? (like ? new Date(Math.min(Date.parse(like.to), Date.parse(like.createdAt))) : new Date());
    const input: StartOptions = { kind, endpoint: options.endpoint ?? like?.endpointId ?? undefined, from, to, dryRun: options.dryRun, rate: options.rate ?? like?.ratePerSecond ?? undefined };
    const started = await startReplay(service(), input);
    const job = options.wait ? await followReplay(service(), started.id, !options.json && process.stderr.isTTY === true) : started;
    say(options.json ? JSON.stringify(job) : options.wait ? describeReplay(job) : `replay ${job.id} started (${job.state}); follow it with: event-service replay show ${job.id} --wait`);
    if (job.state === 'FAILED') process.exitCode = 1;
  });
replay
  .command('show')
  .description('a replay job’s progress and where its deliveries went')
  .argument('<id>', 'the job’s id')
  .option('--wait', 'follow it to its end with a progress bar')
  .option('--json', 'the job as JSON')
  .action(async (id: string, { wait, json }: { wait?: boolean; json?: boolean }) => {
    const job = wait ? await followReplay(service(), id, !json && process.stderr.isTTY === true) : await readReplay(service(), id);
    say(json ? JSON.stringify(job) : describeReplay(job));
  });
replay
  .command('list')
  .description('replay jobs, newest first')
  .option('--state <state>', 'QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED (repeat, or comma-separated)', collect, [] as string[])
  .option('--limit <n>', 'at most n', positive('--limit'), 50)
  .option('--json', 'the API’s answer as JSON')
  .action(async ({ state, limit, json }: { state: string[]; limit: number; json?: boolean }) => {
    const page = await listReplays(service(), state, limit);
    if (json) {
      say(JSON.stringify(page));
      return;
    }
    say(replayTable(page.collectionItems));
    say(`${page.collectionItems.length} of ${page.totalCount} replay jobs`);
  });
replay
  .command('cancel')
  .description('stop a replay job after the batch it is sending (ADMIN token); what was sent stays sent')
  .argument('<id>', 'the job’s id')
  .action(async (id: string) => {
    const job = await cancelReplay(service(), id);
    say(`replay ${job.id}: cancel asked (${job.state}, ${job.sent} deliveries sent so far)`);
  });

const deadLetters = program
  .command('dead-letters')
  .description('messages the data path gave up on (docs/operations.md, Dead letters): list them, resubmit them after a fix, or discard them');
/** The filters every dead-letters command takes. */
const withDeadLetterFilters = (command: Command) =>
  command
    .option('--id <id>', 'a dead letter’s id (repeat, or comma-separated)', collect, [] as string[])
    .option('--app <app>', 'the app that gave up: ingest, profile-sync, filter-router, webhook-dispatcher (repeat, or comma-separated)', collect, [] as string[])
    .option('--reason <code>', 'a reason code such as INVALID_EVENT (repeat, or comma-separated)', collect, [] as string[])
    .option('--since <when>', 'dead-lettered at or after: a date-time, or how long ago (2h, 7d)', parseInstant('--since'))
    .option('--until <when>', 'dead-lettered at or before: a date-time, or how long ago', parseInstant('--until'));
withDeadLetterFilters(deadLetters.command('list').description('the dead letters, newest first: id, when, app, reason, state, detail'))
  .option('--state <state>', 'OPEN, RESUBMITTED or DISCARDED (repeat, or comma-separated)', collect, [] as string[])
  .option('--limit <n>', 'at most n', positive('--limit'), 50)
  .option('--json', 'the API’s answer as JSON, messages included')
  .action(async (options: DeadLetterOptions & { limit: number; json?: boolean }) => {
    const page = await listDeadLetters(service(), options, options.limit);
    if (options.json) {
      say(JSON.stringify(page));
      return;
    }
    say(deadLetterTable(page.collectionItems));
    say(`${page.collectionItems.length} of ${page.totalCount} dead letters`);
  });
withDeadLetterFilters(
  deadLetters.command('resubmit').description('send the open dead letters of the filters back where they came from, with their headers (ADMIN token); one that still fails comes back as a new one'),
)
  .option('--all', 'every open dead letter, when no filter is given')
  .action(async (options: DeadLetterOptions & { all?: boolean }) => {
    say(`resubmitted ${await actOnDeadLetters(service(), 'resubmit', { ...options, state: [] }, options.all === true)} dead letters`);
  });
withDeadLetterFilters(deadLetters.command('discard').description('mark the open dead letters of the filters DISCARDED (ADMIN token)'))
  .option('--all', 'every open dead letter, when no filter is given')
  .action(async (options: DeadLetterOptions & { all?: boolean }) => {
    say(`discarded ${await actOnDeadLetters(service(), 'discard', { ...options, state: [] }, options.all === true)} dead letters`);
  });

program
  .command('migrate')
  .description('the migration step (as npm run migrate and the k8s Job): migrations, then each app’s database role; reads DATABASE_URL, DATABASE_SCHEMA and the *_DATABASE_PASSWORD variables')
  .action(async () => {
    // The database layer loads with the one command that uses it: the others start without it.
    const { runMigrationStep } = await import('../migration-step.js');
    for (const line of await runMigrationStep(process.env)) say(line);
  });

program
  .command('simulate')
  .description('agents with cameras, a profile catalogue with watchlists, and events in a mix: over HTTP with the token, or over NATS as agents publish')
  .option('--agents <n>', 'agents', positive('--agents'), DEFAULT_SIMULATION.agents)
  .option('--cameras <n>', 'cameras per agent', positive('--cameras'), DEFAULT_SIMULATION.camerasPerAgent)
  .option('--profiles <n>', 'profiles in the catalogue, announced through the lifecycle first', positive('--profiles'), DEFAULT_SIMULATION.profiles)
  .option('--watchlists <n>', 'watchlists the profiles are on', positive('--watchlists'), DEFAULT_SIMULATION.watchlists)
  .option('--events <n>', 'events to send', positive('--events'), 100)
  .option('--rate <n>', 'events per second (default: as fast as the service takes them)', positive('--rate'))
  .option('--mix <type=weight,...>', `relative weights of the event types (default ${Object.entries(DEFAULT_MIX).map(([type, weight]) => `${type}=${weight}`).join(',')})`, parseMix)
  .option('--images', 'attach a face image and a frame to every event')
  .option('--delete-every <n>', 'every n events, delete a profile and send an identification of it alone (a lost event); at most a fifth of the profiles are deleted', positive('--delete-every', { zero: true }), 0)
  .option('--seed <n>', 'the same seed, the same agents, profiles and events', positive('--seed', { zero: true }), 1)
  .addOption(new Option('--over <transport>', 'how events travel').choices(['http', 'nats']).default('http'))
  .option('--no-announce', 'skip announcing the catalogue (a run of the same seed did)')
  .addOption(new Option('--nats-url <url>', 'for --over nats').env('NATS_URL').default('nats://127.0.0.1:4222'))
  .addOption(new Option('--nats-user <user>', 'for --over nats').env('NATS_USER'))
  .addOption(new Option('--nats-password <password>', 'for --over nats').env('NATS_PASSWORD'))
  .addOption(new Option('--prefix <prefix>', 'the installation’s NATS_PREFIX, for --over nats').env('NATS_PREFIX').default('es'))
  .option('--json', 'print the tally as JSON')
  .action(async (options: Omit<SimulateOptions, 'mix' | 'progress'> & { mix?: SimulateOptions['mix']; json?: boolean }) => {
    const controller = new AbortController();
    // Interrupted: what is in flight is finished and the tally printed, and the exit code says so.
    process.once('SIGINT', () => {
      controller.abort();
      process.exitCode = 130;
    });
    const tally = await simulate(service(), { ...options, mix: options.mix ?? DEFAULT_MIX, rate: options.rate ?? null, progress: process.stderr.isTTY === true }, controller.signal);
    if (options.json) {
      say(JSON.stringify(tally));
      return;
    }
    for (const line of tallyLines(tally)) say(line);
  });

program
  .command('watch')
  .description('print an endpoint’s events as they arrive over its websocket, resuming after the last one on a reconnect')
  .argument('<endpoint-id>', 'a websocket endpoint’s id')
  .option('--count <n>', 'stop after n events', positive('--count'))
  .option('--json', 'each event’s JSON as delivered, one per line')
  .option('--endpoint-token <token>', 'its connection token, when it requires one (or an API token that reads it)')
  .action(async (endpointId: string, options: { count?: number; json?: boolean; endpointToken?: string }) => {
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    await watchEndpoint(service(), endpointId, { ...options, print: say, signal: controller.signal });
  });

program
  .command('quickstart')
  .description('with the service running: make a websocket endpoint and a filter, run the simulator, and print the events arriving')
  .option('--events <n>', 'events to simulate', positive('--events'), 30)
  .option('--rate <n>', 'events per second', positive('--rate'), 10)
  .action(async (options: { events: number; rate: number }) => {
    await quickstart(service(), options, say);
  });

try {
  await program.parseAsync();
} catch (error) {
  // One line, whatever failed (the service's refusal, a database error in migrate, a network failure): `DEBUG=1` shows where.
  const cause = (error as Error).cause instanceof Error ? ` (${((error as Error).cause as Error).message})` : '';
  process.stderr.write(`event-service: ${(error as Error).message}${error instanceof CliError ? '' : cause}\n`);
  if (process.env.DEBUG && !(error instanceof CliError)) process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
}
