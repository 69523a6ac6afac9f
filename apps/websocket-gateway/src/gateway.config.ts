import { z } from 'zod';
import { apiTokenEnv, bytesVar, deletedProfilesEnv, durationVar, loadConfig, natsEnv, portVar, runtimeEnv } from '@app/config';

export const gatewayEnv = z.object({
  ...natsEnv,
  ...deletedProfilesEnv,
  ...runtimeEnv,
  /** When set, the bootstrap ADMIN token admits connections to endpoints that require a token, as named ADMIN tokens do. */
  ...apiTokenEnv,
  GATEWAY_PORT: portVar(8082),
  /** How often clients are pinged; one that has not answered the previous ping is dropped. */
  WS_PING_INTERVAL: durationVar('30s'),
  /**
   * On SIGTERM the gateway drains: it refuses new connections and closes its
   * clients (1012, reconnect) spread over this long, so that their reconnects
   * reach the other replicas as a wave, not a spike. Keep it below the
   * platform's termination grace (k8s: terminationGracePeriodSeconds).
   */
  WS_DRAIN_GRACE: durationVar('10s'),
  /**
   * Bytes of the latest websocket deliveries each replica keeps in memory: a
   * client resuming from one of them (after a drain, a short drop) is served
   * from memory, without a NATS request. 0 turns it off.
   */
  WS_RECENT_BYTES: bytesVar('64MiB'),
  /**
   * How long a replica keeps reading an endpoint's deliveries after its last
   * client there left: one that comes back meanwhile (a drain, a short drop)
   * resumes from memory. A replica reads only its clients' endpoints.
   */
  WS_FEED_LINGER: durationVar('30s'),
  /**
   * From this many endpoints with clients on a replica, it reads every
   * websocket delivery with one consumer (passing over those of other
   * endpoints) instead of one consumer per endpoint, until they fall below
   * half of it: on nats-server 2.9 many per-endpoint consumers cost the
   * server more than reading everything once. 0 or 1: always one consumer.
   */
  WS_SHARED_FEED_ENDPOINTS: z.coerce.number().int().min(0).default(32),
  /** Clients one replica holds at most, all endpoints together (those being admitted included); past it new ones are told to reconnect (1013), to another replica. */
  WS_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(50_000),
  /** Clients one replica holds at most from one address (WS_CLIENT_ADDRESS_HEADER); past it 4429. 0: no limit. */
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(0).default(1_000),
  /** The header in which a trusted proxy names the client's address (its last value is taken); empty: the connection's peer. */
  WS_CLIENT_ADDRESS_HEADER: z.string().default(''),
  /** Clients one replica catches up at once (a resume reads history); past it new resumes are told to reconnect (1013). */
  WS_MAX_RESUMES: z.coerce.number().int().min(1).default(500),
  /** A resuming client gets its history at most this many events a second. */
  WS_RESUME_RATE: z.coerce.number().int().min(1).default(2_000),
  /** All resuming clients of a replica together get at most this many history events a second (live clients are never held back). */
  WS_RESUME_TOTAL_RATE: z.coerce.number().int().min(1).default(20_000),
  /** A client whose unsent backlog passes this many bytes is too slow and is closed. */
  WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(65_536).default(8 * 1024 * 1024),
  /**
   * The budget of all clients' unsent backlogs together: past it, every
   * client whose backlog is over its even share of the budget is closed as
   * too slow, so many slow readers cannot exhaust the replica's memory.
   */
  WS_MAX_TOTAL_BUFFERED_BYTES: z.coerce.number().int().min(65_536).default(512 * 1024 * 1024),
});

export type GatewayConfig = z.infer<typeof gatewayEnv>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  return loadConfig(gatewayEnv, env);
}
