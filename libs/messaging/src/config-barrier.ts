import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import type { NatsClient } from './nats-connection.js';

/** A replica's answer: it has applied the revision asked about, or not yet (a second answer follows when it has). */
interface BarrierAnswer {
  replica: string;
  applied: boolean;
}

/** How long a replica waits to apply a revision before it stops answering about it. */
const APPLY_TIMEOUT_MS = 5_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A view of the config bucket that can say whether it has applied a revision (ConfigView, TokenView). */
export interface RevisionView {
  readonly revision: number;
  reached(revision: number, timeoutMs: number): Promise<boolean>;
}

/**
 * The side of "a change takes effect before the mutation returns" that
 * holds a view: every replica answers a question about a config revision
 * at once (so the asker learns who is there), and once more when its view
 * has applied it. Dispatchers answer on `configApplied` (endpoints and
 * secrets); the api and ingest on `tokensApplied` (tokens).
 */
export class ConfigBarrierResponder {
  private readonly logger = new Logger(ConfigBarrierResponder.name);
  private readonly replica = randomUUID();
  private subscription: Subscription | null = null;

  constructor(
    private readonly client: NatsClient,
    private readonly view: RevisionView,
    private readonly subject: string,
  ) {}

  start(): void {
    this.subscription = this.client.connection.subscribe(this.subject, {
      callback: (error, message) => {
        if (!error) void this.answer(message).catch((failure: Error) => this.logger.warn(`config barrier: ${failure.message}`));
      },
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  private async answer(message: Msg): Promise<void> {
    const revision = Number(decoder.decode(message.data));
    if (!Number.isSafeInteger(revision) || !message.reply) return;
    const reply = (applied: boolean) => message.respond(encoder.encode(JSON.stringify({ replica: this.replica, applied } satisfies BarrierAnswer)));
    if (this.view.revision >= revision) return void reply(true);
    reply(false);
    if (await this.view.reached(revision, APPLY_TIMEOUT_MS)) reply(true);
  }
}

/** What the api learnt about a revision: how many replicas answered, and how many of them had not applied it in time. */
export interface BarrierOutcome {
  replicas: number;
  lagging: number;
}

/**
 * The api's side: asks every replica answering on `subject` about `revision` and waits
 * until each that answered within `discoverMs` has applied it, for at most
 * `timeoutMs`. No replica running answers { replicas: 0 } after `discoverMs`.
 */
export async function awaitConfigApplied(
  client: NatsClient,
  revision: number,
  { subject = client.topology.configApplied, discoverMs = 100, timeoutMs = 2_000 } = {},
): Promise<BarrierOutcome> {
  const inbox = client.inbox();
  const answered = new Map<string, boolean>();
  const subscription = client.connection.subscribe(inbox);
  const discovered = Date.now() + discoverMs;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const check = () => {
    if (Date.now() >= discovered && [...answered.values()].every(Boolean)) settle();
  };
  const timers = [setTimeout(check, discoverMs), setTimeout(settle, timeoutMs)];
  void (async () => {
    for await (const message of subscription) {
      // No replica subscribed: the server says so with an empty status message (503).
      if (message.data.length === 0) continue;
      const answer = JSON.parse(decoder.decode(message.data)) as BarrierAnswer;
      answered.set(answer.replica, answered.get(answer.replica) === true || answer.applied);
      check();
    }
  })();
  client.connection.publish(subject, encoder.encode(String(revision)), { reply: inbox });
  try {
    await settled;
  } finally {
    timers.forEach(clearTimeout);
    subscription.unsubscribe();
  }
  return { replicas: answered.size, lagging: [...answered.values()].filter((applied) => !applied).length };
}
