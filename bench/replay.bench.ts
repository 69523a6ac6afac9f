import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { seedWebsocketDeliveries } from '../test/support/seed-deliveries.js';
import { TestStack } from '../test/support/stack.js';

/**
 * A replay job at scale (`npm run bench:replay`): REPLAY_EVENTS (1,000,000)
 * websocket deliveries of the simulator's events stored for one endpoint
 * as the router stores them, then re-delivered by one webhook-dispatcher
 * replica with the rate caps lifted: first as a dry run (read and the
 * deleted-profile check only), then for real (every delivery published
 * again). Prints, for each: messages a second over the job's own run
 * (startedAt to finishedAt, as the worker recorded them), and the worker's
 * resident memory (sampled every 250 ms while the job ran, and its peak
 * since start, VmHWM). The api and the dispatcher run as production runs
 * them (JSON logs); no gateway: the copies are stored, not forwarded.
 */
const EVENTS = Number(process.env.REPLAY_EVENTS ?? 1_000_000);

const kib = (pid: number, field: 'VmRSS' | 'VmHWM'): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const mib = (kilobytes: number) => `${(kilobytes / 1024).toFixed(0)} MiB`;

const stack = await TestStack.start({
  apps: ['api', 'webhook-dispatcher'],
  env: { LOG_FORMAT: 'json', STREAM_MAX_BYTES: '8GiB', STREAM_MAX_AGE: '2h' },
  appEnv: { 'webhook-dispatcher': { REPLAY_TOTAL_RATE_PER_SECOND: '1000000', REPLAY_RATE_PER_SECOND: '1000000' } },
});
const graphql = stack.graphql.bind(stack);
try {
  const endpointId = await stack.createWebsocketEndpoint('replayed');
  await stack.waitForConfig();
  const from = new Date(Date.now() - 1_000);
  const seededAt = performance.now();
  await seedWebsocketDeliveries(await stack.natsClient(), endpointId, EVENTS, (stored) => process.stdout.write(`seeded ${stored.toLocaleString('en-US')}\n`));
  const seedSeconds = (performance.now() - seededAt) / 1_000;
  process.stdout.write(`seeded ${EVENTS.toLocaleString('en-US')} deliveries in ${seedSeconds.toFixed(1)} s (${Math.round(EVENTS / seedSeconds).toLocaleString('en-US')}/s)\n`);
  const to = new Date(Date.now() + 1_000);
  const pid = stack.pid('webhook-dispatcher');
  process.stdout.write(`worker before the jobs: ${mib(kib(pid, 'VmRSS'))} resident\n`);

  for (const dryRun of [true, false]) {
    const started = await graphql('mutation($input: StartReplayInput!) { startReplay(input: $input) { id } }', {
      input: { kind: 'REDELIVER', endpointId, from: from.toISOString(), to: to.toISOString(), dryRun, ratePerSecond: 100_000 },
    });
    if (started.errors) throw new Error(started.errors[0]!.message);
    const id = started.data.startReplay.id as string;
    let peak = 0;
    let job: Record<string, any> = {};
    for (;;) {
      peak = Math.max(peak, kib(pid, 'VmRSS'));
      job = (await graphql(`query($id: ID!) { replayJob(id: $id) { state total done sent startedAt finishedAt error } }`, { id })).data.replayJob as Record<string, any>;
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.state)) break;
      await sleep(250);
    }
    if (job.state !== 'SUCCEEDED') throw new Error(`the ${dryRun ? 'dry run' : 'run'} ended ${job.state}: ${job.error}`);
    const seconds = (Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1_000;
    process.stdout.write(
      `${dryRun ? 'dry run' : 'run    '}: ${job.done.toLocaleString('en-US')} read, ${job.sent.toLocaleString('en-US')} ${dryRun ? 'counted' : 'sent'} in ${seconds.toFixed(1)} s = ` +
        `${Math.round(job.done / seconds).toLocaleString('en-US')} events/s; worker resident peak ${mib(peak)} while it ran, ${mib(kib(pid, 'VmHWM'))} since start\n`,
    );
  }
} finally {
  await stack.stop();
}
