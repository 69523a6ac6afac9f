import { z } from 'zod';
import { databaseEnv, deletedProfilesEnv, durationVar, loadConfig, natsEnv, parseDuration, partitionsEnv, runtimeEnv } from '@app/config';
import { resolveSecretKeys, secretKeysEnv, webhookNetworksVar, type SecretKey } from '@app/webhooks';

export const dispatcherEnv = z.object({
  ...natsEnv,
  ...partitionsEnv,
  ...databaseEnv,
  ...runtimeEnv,
  ...secretKeysEnv,
  ...deletedProfilesEnv,
  /** How long one attempt may take, connection to last byte. */
  WEBHOOK_TIMEOUT: durationVar('15s'),
  /** Delays before each retry; the last attempt comes after the last delay (about 22 hours in all by default). */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('5s,30s,2m,10m,30m,1h,3h,6h,12h')
    .transform((list, ctx) => {
      try {
        return list.split(',').map((item) => parseDuration(item));
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
  WEBHOOK_ALLOWED_NETWORKS: webhookNetworksVar,
  /** Attempts in flight at once to one endpoint; more wait in the retry store, not in memory. */
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /** Consecutive failed attempts after which an endpoint is paused and only probed. */
  WEBHOOK_PAUSE_AFTER_FAILURES: z.coerce.number().int().min(1).default(20),
  /** How often a paused-by-failures endpoint gets one probe attempt; a success resumes it. */
  WEBHOOK_PROBE_INTERVAL: durationVar('30s'),
  /** How long the delivery log keeps attempts. */
  DELIVERY_LOG_RETENTION: durationVar('30d'),
  /** A replay job's deliveries a second, unless the job asks for its own rate (which may be higher, up to the total). */
  REPLAY_RATE_PER_SECOND: z.coerce.number().int().min(1).default(50),
  /** Deliveries a second of all replay jobs together, shared equally among the jobs running on every replica. */
  REPLAY_TOTAL_RATE_PER_SECOND: z.coerce.number().int().min(1).default(200),
  /** Replay jobs one replica runs at once; more wait for a replica with room. */
  REPLAY_JOBS_PER_REPLICA: z.coerce.number().int().min(0).max(64).default(2),
  /** How long a replay job's lease outlives its holder: after a replica dies, another takes its jobs over within this. */
  REPLAY_LEASE_TTL: durationVar('10s'),
  /** Bytes of a receiver's answer kept in the delivery log. */
  DELIVERY_LOG_BODY_BYTES: z.coerce.number().int().min(0).max(65_536).default(1_024),
});

export type DispatcherConfig = Omit<z.infer<typeof dispatcherEnv>, 'SECRET_KEYS'> & { SECRET_KEYS: SecretKey[] };

export function loadDispatcherConfig(env: NodeJS.ProcessEnv): DispatcherConfig {
  const config = loadConfig(dispatcherEnv, env);
  return { ...config, SECRET_KEYS: resolveSecretKeys(config.SECRET_KEYS, config.NODE_ENV) };
}
