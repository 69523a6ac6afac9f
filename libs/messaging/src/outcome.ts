/**
 * Why a message went to the dead letters: a fixed set, so that operators can
 * alert on it and metrics can label by it. The free-text detail travels beside it.
 */
export const DeadLetterReason = {
  /** The event failed the schema (ingest's rejection code and field are in the detail). */
  INVALID_EVENT: 'INVALID_EVENT',
  /** Not JSON, or not the shape its subject carries (a profile lifecycle message, say). */
  MALFORMED_MESSAGE: 'MALFORMED_MESSAGE',
  /** Larger than the limits allow. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** An agent's event naming another agent than the one that sent it (its NATS subject). */
  WRONG_AGENT: 'WRONG_AGENT',
  /** An agent's event naming a camera bound to another agent (the first to report it, or where an ADMIN moved it). */
  CAMERA_OF_ANOTHER_AGENT: 'CAMERA_OF_ANOTHER_AGENT',
  /** An agent's event naming a new camera when the agent has INGEST_MAX_CAMERAS_PER_AGENT already. */
  TOO_MANY_CAMERAS: 'TOO_MANY_CAMERAS',
  /** A key twice in one object of the event's JSON. */
  DUPLICATE_KEY: 'DUPLICATE_KEY',
  /** Lacks the headers the data path sets (event id, routing fields). */
  MISSING_HEADERS: 'MISSING_HEADERS',
  /** On a subject this consumer has no handler for. */
  UNKNOWN_SUBJECT: 'UNKNOWN_SUBJECT',
  /** For an endpoint that does not exist. */
  UNKNOWN_ENDPOINT: 'UNKNOWN_ENDPOINT',
  /** The handler kept failing on it while every dependency was reachable: a bug or data it cannot handle. */
  HANDLER_FAILED: 'HANDLER_FAILED',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** What a consumer's handler decided about one message. */
export type Outcome =
  /** The effect is durable: ack. */
  | { readonly kind: 'done' }
  /** It can never succeed: record it with the reason in the dead-letter stream, then ack. */
  | { readonly kind: 'skip'; readonly reason: DeadLetterReason; readonly detail: string }
  /**
   * A transient failure (a dependency away): redeliver after the delay, for as
   * long as it takes. Never dead-lettered, never an instant tight loop.
   */
  | { readonly kind: 'retry'; readonly reason: string; readonly delayMs: number; readonly maxDelayMs?: number };

export const Outcome = {
  done: { kind: 'done' } as Outcome,
  skip: (reason: DeadLetterReason, detail: string): Outcome => ({ kind: 'skip', reason, detail }),
  /** `maxDelayMs`: how long the growing backoff may get at most (a full stream frees up in seconds). */
  retry: (reason: string, delayMs: number, maxDelayMs?: number): Outcome => ({ kind: 'retry', reason, delayMs, ...(maxDelayMs ? { maxDelayMs } : {}) }),
};
