import { z } from 'zod';
import { resolveSecretKeys, secretKeysEnv, webhookNetworksVar, type SecretKey } from '@app/webhooks';
import { apiTokenEnv, booleanVar, databaseEnv, deletedProfilesEnv, durationVar, imageLinkEnv, loadConfig, natsEnv, portVar, publicUrlEnv, resolveImageLinkKey, runtimeEnv } from '@app/config';

export const apiEnv = z.object({
  ...natsEnv,
  ...deletedProfilesEnv,
  ...databaseEnv,
  ...runtimeEnv,
  ...publicUrlEnv,
  ...apiTokenEnv,
  ...imageLinkEnv,
  ...secretKeysEnv,
  API_PORT: portVar(8083),
  /** Answers introspection (`__schema`, `__type`) to a valid token; off unless set: the schema is in apps/api/schema.graphql. */
  GRAPHQL_INTROSPECTION: booleanVar(false),
  /** How often the config bucket is re-checked against PostgreSQL. */
  CONFIG_RECONCILE_INTERVAL: durationVar('60s'),
  /** How long resubmitDeadLetters and discardDeadLetters wait for the webhook-dispatcher's answer before UNAVAILABLE. */
  DEAD_LETTER_COMMAND_TIMEOUT: durationVar('30s'),
  /**
   * Whether createAgent issues NATS credentials: `nats` with NATS in operator
   * mode, where the credentials issuer (apps/credentials-issuer) signs them;
   * `none` (NATS open, or a static user per agent) issues the AGENT token alone.
   */
  AGENT_CREDENTIALS: z.enum(['none', 'nats']).default('none'),
  /** CIDRs webhooks may reach although they are internal (loopback, private, link-local). Empty by default. */
  WEBHOOK_ALLOWED_NETWORKS: webhookNetworksVar,
});

export type ApiConfig = Omit<z.infer<typeof apiEnv>, 'SECRET_KEYS' | 'IMAGE_LINK_KEY'> & { SECRET_KEYS: SecretKey[]; IMAGE_LINK_KEY: Buffer | null };

export function loadApiConfig(env: NodeJS.ProcessEnv): ApiConfig {
  const config = loadConfig(apiEnv, env);
  return { ...config, SECRET_KEYS: resolveSecretKeys(config.SECRET_KEYS, config.NODE_ENV), IMAGE_LINK_KEY: resolveImageLinkKey(config) };
}
