/** What a consumer's handler decided about one message. */
export type Outcome =
  /** The effect is durable: ack. */
  | { readonly kind: 'done' }
  /** It can never succeed: record it with the reason in the dead-letter stream, then ack. */
  | { readonly kind: 'skip'; readonly reason: string }
  /** A transient failure: redeliver after the delay (never an instant tight loop). */
  | { readonly kind: 'retry'; readonly reason: string; readonly delayMs: number };

export const Outcome = {
  done: { kind: 'done' } as Outcome,
  skip: (reason: string): Outcome => ({ kind: 'skip', reason }),
  retry: (reason: string, delayMs: number): Outcome => ({ kind: 'retry', reason, delayMs }),
};
