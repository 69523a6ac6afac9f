import { z } from 'zod';
import { configSecretKeyEnv, resolveConfigSecretKey, webhookNetworksVar } from '@app/webhooks';
import { apiTokenEnv, booleanVar, databaseEnv, durationVar, loadConfig, natsEnv, portVar, publicUrlEnv, runtimeEnv } from '@app/config';

const apiEnv = z.object({
  ...natsEnv,
  ...databaseEnv,
  ...runtimeEnv,
  ...publicUrlEnv,
  ...apiTokenEnv,
  ...configSecretKeyEnv,
  API_PORT: portVar(8083),
  /** Apply pending database migrations at start (under an advisory lock). */
  DATABASE_MIGRATE: booleanVar(true),
  /** How often the config bucket is re-checked against PostgreSQL. */
  CONFIG_RECONCILE_INTERVAL: durationVar('60s'),
  /** Image links are capability URLs; set this to also require the API token on them. */
  IMAGE_REQUIRE_TOKEN: booleanVar(false),
  /** CIDRs webhooks may reach although they are internal (loopback, private, link-local). Empty by default. */
  WEBHOOK_ALLOWED_NETWORKS: webhookNetworksVar,
});

export type ApiConfig = Omit<z.infer<typeof apiEnv>, 'CONFIG_SECRET_KEY'> & { CONFIG_SECRET_KEY: Buffer };

export function loadApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const config = loadConfig(apiEnv, env);
  return { ...config, CONFIG_SECRET_KEY: resolveConfigSecretKey(config.CONFIG_SECRET_KEY, config.NODE_ENV).key };
}
