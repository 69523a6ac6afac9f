import { z } from 'zod';
import { idKey } from '@app/events';
import { apiTokenEnv, imageLinkEnv, loadConfig, natsEnv, partitionsEnv, portVar, publicUrlEnv, resolveImageLinkKey, runtimeEnv } from '@app/config';

/** Events larger than this are refused; NATS's own limit of 1 MB is the ceiling. */
const MAX_EVENT_BYTES_CEILING = 1_000_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const ingestEnv = z.object({
  ...natsEnv,
  ...partitionsEnv,
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
  /**
   * Extra tokens agents may post with, besides API_TOKEN and named tokens: `<agent id>:<token>`, comma-separated, each
   * bound to its agent (a token listed with several agent ids speaks for each of them, and for no other).
   */
  AGENT_TOKENS: z
    .string()
    .default('')
    .transform((list, context) => {
      const bound = new Map<string, string[]>();
      for (const [index, item] of list.split(',').map((entry) => entry.trim()).filter(Boolean).entries()) {
        const separator = item.indexOf(':');
        const [agentId, token] = [item.slice(0, separator), item.slice(separator + 1)];
        if (separator < 0 || !UUID.test(agentId) || token.length === 0) {
          context.addIssue({ code: 'custom', message: `entry ${index + 1} is not <agent id>:<token> (each token is bound to an agent id, a UUID)` });
          return z.NEVER;
        }
        bound.set(token, [...(bound.get(token) ?? []), idKey(agentId)]);
      }
      return [...bound].map(([token, agentIds]) => ({ token, agentIds }));
    }),
  /**
   * `first-agent`: a camera belongs to the first agent that reports it, and another agent's event naming it is
   * refused (CAMERA_OF_ANOTHER_AGENT); `off`: any agent may name any camera (several agents watching one camera).
   */
  CAMERA_BINDING: z.enum(['first-agent', 'off']).default('first-agent'),
  /** Cameras one agent may have bound (first-agent binding): a new one beyond it is refused (TOO_MANY_CAMERAS). */
  INGEST_MAX_CAMERAS_PER_AGENT: z.coerce.number().int('a whole number').min(1, 'at least 1').default(10_000),
  /** Seconds a client is told to wait when JetStream cannot store its event. */
  INGEST_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).default(2),
});

export type IngestConfig = Omit<z.infer<typeof ingestEnv>, 'IMAGE_LINK_KEY'> & { IMAGE_LINK_KEY: Buffer | null };

export function loadIngestConfig(env: NodeJS.ProcessEnv): IngestConfig {
  const config = loadConfig(ingestEnv, env);
  return { ...config, IMAGE_LINK_KEY: resolveImageLinkKey(config) };
}
