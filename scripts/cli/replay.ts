import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import { CliError, graphql, table, type ServiceOptions } from './service.js';

/** A replay job as the CLI shows it. */
export interface ReplayJob {
  id: string;
  kind: string;
  endpointId: string | null;
  from: string;
  to: string;
  dryRun: boolean;
  ratePerSecond: number | null;
  state: string;
  total: number | null;
  done: number;
  sent: number;
  skipped: number;
  rate: number | null;
  etaSeconds: number | null;
  reached: Array<{ endpointId: string; events: number }>;
  error: string | null;
  createdAt: string;
  worker: string | null;
}

const FIELDS = 'id kind endpointId from to dryRun ratePerSecond state total done sent skipped rate etaSeconds reached { endpointId events } error createdAt worker';
const ENDED = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
/** How often a followed job's progress is read. */
const FOLLOW_INTERVAL_MS = 1_000;

export interface StartOptions {
  kind: string;
  endpoint?: string;
  from: Date;
  to: Date;
  dryRun?: boolean;
  rate?: number;
}

export async function startReplay(service: ServiceOptions, options: StartOptions): Promise<ReplayJob> {
  const kind = options.kind.toUpperCase();
  if (kind !== 'REDELIVER' && kind !== 'REROUTE') throw new CliError('--kind must be redeliver or reroute');
  const input = {
    kind,
    ...(options.endpoint ? { endpointId: options.endpoint } : {}),
    from: options.from.toISOString(),
    to: options.to.toISOString(),
    dryRun: options.dryRun === true,
    ...(options.rate ? { ratePerSecond: options.rate } : {}),
  };
  const data = await graphql<{ startReplay: ReplayJob }>(service, `mutation($input: StartReplayInput!) { startReplay(input: $input) { ${FIELDS} } }`, { input });
  return data.startReplay;
}

export async function readReplay(service: ServiceOptions, id: string): Promise<ReplayJob> {
  const data = await graphql<{ replayJob: ReplayJob | null }>(service, `query($id: ID!) { replayJob(id: $id) { ${FIELDS} } }`, { id });
  if (!data.replayJob) throw new CliError(`no replay job ${id}`);
  return data.replayJob;
}

export async function listReplays(service: ServiceOptions, states: string[], limit: number): Promise<{ totalCount: number; collectionItems: ReplayJob[] }> {
  const filters = states.length > 0 ? { state: { in: states.map((state) => state.toUpperCase()) } } : {};
  const data = await graphql<{ replayJobs: { totalCount: number; collectionItems: ReplayJob[] } }>(
    service,
    `query($filters: ReplayJobFilters, $limit: Int) { replayJobs(filters: $filters, pagination: { limit: $limit }) { totalCount collectionItems { ${FIELDS} } } }`,
    { filters, limit },
  );
  return data.replayJobs;
}

export async function cancelReplay(service: ServiceOptions, id: string): Promise<ReplayJob> {
  const data = await graphql<{ cancelReplay: ReplayJob }>(service, `mutation($id: ID!) { cancelReplay(id: $id) { ${FIELDS} } }`, { id });
  return data.cancelReplay;
}

/**
 * Follows a job until it ends, with a progress bar on stderr when `progress`
 * (messages read of the total, rate, time left); returns it as it ended.
 * Stopping the CLI leaves the job running: `replay cancel` stops it.
 */
export async function followReplay(service: ServiceOptions, id: string, progress: boolean): Promise<ReplayJob> {
  const bar = progress
    ? new cliProgress.SingleBar(
        { format: 'replay [{bar}] {value}/{total} messages  {sent} sent  {rate}/s  {eta_formatted} left', stream: process.stderr, etaBuffer: 20 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  let job = await readReplay(service, id);
  bar?.start(job.total ?? 0, job.done, { sent: job.sent, rate: '-' });
  try {
    while (!ENDED.has(job.state)) {
      await sleep(FOLLOW_INTERVAL_MS);
      job = await readReplay(service, id);
      if (job.total !== null) bar?.setTotal(job.total);
      bar?.update(job.done, { sent: job.sent, rate: job.rate === null ? '-' : Math.round(job.rate) });
    }
  } finally {
    bar?.stop();
  }
  return job;
}

/** A job's summary: one line, then where its deliveries went. */
export function describeReplay(job: ReplayJob): string {
  const what = job.kind === 'REDELIVER' ? `re-delivery to ${job.endpointId}` : 're-route through today’s filters';
  const lines = [
    `${job.dryRun ? 'dry run of a ' : ''}${what} ${job.id} (${job.from} to ${job.to}): ${job.state}; ${job.done}${job.total === null ? '' : ` of ${job.total}`} messages read, ${job.sent} deliveries ${job.dryRun ? 'would be ' : ''}sent, ${job.skipped} skipped`,
  ];
  if (job.error) lines.push(`error: ${job.error}`);
  if (job.reached.length > 0) lines.push(table(['ENDPOINT', 'DELIVERIES'], job.reached.map((reach) => [reach.endpointId, String(reach.events)])));
  return lines.join('\n');
}

export function replayTable(jobs: ReplayJob[]): string {
  return table(
    ['ID', 'KIND', 'STATE', 'DRY RUN', 'READ', 'SENT', 'CREATED'],
    jobs.map((job) => [job.id, job.kind, job.state, job.dryRun ? 'yes' : 'no', `${job.done}/${job.total ?? '?'}`, String(job.sent), job.createdAt]),
  );
}
