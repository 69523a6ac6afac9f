import { z } from 'zod';
import { apiTokenEnv, imageLinkEnv, loadConfig, natsEnv, portVar, publicUrlEnv, resolveImageLinkKey, runtimeEnv } from '@app/config';

/** Events larger than this are refused; NATS's own limit of 1 MB is the ceiling. */
const MAX_EVENT_BYTES_CEILING = 1_000_000;

const ingestEnv = z.object({
  ...natsEnv,
  ...runtimeEnv,
  ...publicUrlEnv,
  ...apiTokenEnv,
  ...imageLinkEnv,
  INGEST_PORT: portVar(8081),
  INGEST_MAX_EVENT_BYTES: z.coerce.number().int().min(1_024).max(MAX_EVENT_BYTES_CEILING).default(262_144),
  /** Largest request (or NATS message) accepted, images included; NATS itself caps its messages at 1 MB. */
  INGEST_MAX_BODY_BYTES: z.coerce.number().int().min(1_024).default(8 * 1_048_576),
  /** Largest image an event may attach. */
  INGEST_MAX_IMAGE_BYTES: z.coerce.number().int().min(1_024).default(4 * 1_048_576),
  /** Extra tokens agents may post with, comma-separated, besides API_TOKEN. */
  AGENT_TOKENS: z
    .string()
    .default('')
    .transform((list) => list.split(',').map((token) => token.trim()).filter(Boolean)),
  /** Seconds a client is told to wait when JetStream cannot store its event. */
  INGEST_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(2),
});

export type IngestConfig = Omit<z.infer<typeof ingestEnv>, 'IMAGE_LINK_KEY'> & { IMAGE_LINK_KEY: Buffer | null };

export function loadIngestConfig(env: NodeJS.ProcessEnv): IngestConfig {
  const config = loadConfig(ingestEnv, env);
  return { ...config, IMAGE_LINK_KEY: resolveImageLinkKey(config) };
}
