import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigView, DeletedProfiles, Leases, NatsClient, RoutingTable, type Lease } from '@app/messaging';
import type { DispatcherConfig } from '../dispatcher.config.js';
import { DISPATCHER_CONFIG } from '../dispatcher.tokens.js';
import { ReplayRun } from './replay-run.js';
import { ReplayStore, type ReplayJob } from './replay-store.js';

/** How often a replica looks for jobs to run (new ones, and ones whose worker died). */
const POLL_INTERVAL_MS = 1_000;
/** Jobs looked at in one poll. */
const POLL_LIMIT = 100;

/** The lease a job runs under. */
export const replayLease = (jobId: string): string => `replay.${jobId}`;

/**
 * Runs replay jobs (startReplay). Every replica polls the open jobs and
 * takes the lease of each it has room for (REPLAY_JOBS_PER_REPLICA): one
 * replica runs a job at a time, and when it dies its lease lapses and
 * another takes the job over from its recorded progress. A job's rate is
 * its own cap (REPLAY_RATE_PER_SECOND by default) within an equal share of
 * REPLAY_TOTAL_RATE_PER_SECOND among the jobs running anywhere.
 */
@Injectable()
export class ReplayWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReplayWorker.name);
  readonly worker = `${hostname()}:${process.pid}`;
  private leases: Leases | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopping = false;
  private readonly running = new Map<string, { lease: Lease; done: Promise<void> }>();
  /** Jobs running anywhere, as of the last poll. */
  private runningAnywhere = 1;

  constructor(
    private readonly nats: NatsClient,
    private readonly store: ReplayStore,
    private readonly routing: RoutingTable,
    private readonly config: ConfigView,
    private readonly deletedProfiles: DeletedProfiles,
    @Inject(DISPATCHER_CONFIG) private readonly settings: DispatcherConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.poll(), POLL_INTERVAL_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    // A poll under way may be taking a lease: it is done (and has let it go) before the runs are stopped.
    await this.polling;
    // Given up at once: each run stops after the batch it is sending, and another replica takes the job over
    // from there without waiting for the lease to lapse.
    const runs = [...this.running.values()];
    await Promise.all(runs.map(({ lease }) => lease.release()));
    await Promise.race([Promise.all(runs.map(({ done }) => done)), new Promise((resolve) => setTimeout(resolve, 5_000))]);
  }

  /** This replica's job ids (tests and /readyz). */
  get jobs(): string[] {
    return [...this.running.keys()];
  }

  private poll(): void {
    if (this.polling || this.stopping || !this.store.connected || !this.nats.connected || !this.config.healthy) return;
    this.polling = this.takeJobs().finally(() => (this.polling = null));
  }

  private async takeJobs(): Promise<void> {
    try {
      this.leases ??= await Leases.open(this.nats, this.worker, this.settings.REPLAY_LEASE_TTL);
      const { jobs, running } = await this.store.openJobs(POLL_LIMIT);
      this.runningAnywhere = Math.max(1, running);
      this.leases.retain(jobs.map((job) => replayLease(job.id)));
      for (const job of jobs) {
        if (this.running.size >= this.settings.REPLAY_JOBS_PER_REPLICA) break;
        if (this.running.has(job.id)) continue;
        const lease = await this.leases.tryAcquire(replayLease(job.id));
        if (!lease) continue;
        if (this.stopping) {
          await lease.release();
          return;
        }
        this.running.set(job.id, { lease, done: this.run(job, lease) });
      }
    } catch (error) {
      this.logger.warn(`cannot look for replay jobs: ${(error as Error).message}`);
    }
  }

  private async run(job: ReplayJob, lease: Lease): Promise<void> {
    try {
      const progress = await this.store.take(job.id, this.worker);
      if (!progress) return;
      if (job.progress) this.logger.log(`taking replay ${job.id} over from message ${progress.position}`);
      const run = new ReplayRun(job, lease, { nats: this.nats, store: this.store, routing: this.routing, deletedProfiles: this.deletedProfiles, worker: this.worker, rateOf: (of) => this.rateOf(of) }, progress);
      await run.execute();
    } catch (error) {
      this.logger.warn(`replay ${job.id} stopped on this replica: ${(error as Error).message}`);
    } finally {
      await lease.release();
      this.running.delete(job.id);
    }
  }

  private rateOf(job: ReplayJob): number {
    const own = job.ratePerSecond ?? this.settings.REPLAY_RATE_PER_SECOND;
    return Math.max(1, Math.min(own, this.settings.REPLAY_TOTAL_RATE_PER_SECOND / this.runningAnywhere));
  }
}
