import { z } from 'zod';
import { databaseEnv, deletedProfilesEnv, durationVar, loadConfig, natsEnv, partitionsEnv, runtimeEnv } from '@app/config';

export const profileSyncEnv = z.object({
  ...natsEnv,
  ...partitionsEnv,
  ...deletedProfilesEnv,
  ...databaseEnv,
  ...runtimeEnv,
  /** How long lost events stay queryable. */
  LOST_EVENTS_RETENTION: durationVar('90d'),
});

export type ProfileSyncConfig = z.infer<typeof profileSyncEnv>;

export function loadProfileSyncConfig(env: NodeJS.ProcessEnv): ProfileSyncConfig {
  return loadConfig(profileSyncEnv, env);
}
