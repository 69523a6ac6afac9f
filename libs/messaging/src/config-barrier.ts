import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Msg, Subscription } from '@nats-io/transport-node';
import type { NatsClient } from './nats-connection.js';

/** A replica's answer: it has applied the revision asked about, or not yet (a second answer follows when it has). */
interface BarrierAnswer {
  replica: string;
  applied: boolean;
}

/** The question: has your view of `bucket` applied `revision`? Answers go to `<p>.barrier.<answering app>.<id>`. */
interface BarrierQuestion {
  bucket: string;
  revision: number;
  id: string;
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
 * has applied it; a question names its bucket (revisions are the bucket's
 * own). Dispatchers (config and secrets buckets) and gateways (config) answer
 * on `configApplied`; the api, ingest and the gateway on `tokensApplied`
 * (tokens bucket).
 *
 * An answer goes to a subject of the answering app's own
 * (`Topology.barrierAnswer`), never to the asker's inbox: no app's NATS
 * user may publish into another's replies, where it could pass for a
 * JetStream answer. (The server's `allow_responses` would allow answering
 * the request's reply instead, but makes the server track the reply subject
 * of every message it delivers to the user, and scan them all on each
 * delivery once more than 4,096 are live: every JetStream message of a busy
 * consumer.)
 */
export class ConfigBarrierResponder {
  private readonly logger = new Logger(ConfigBarrierResponder.name);
  private readonly replica = randomUUID();
  private subscription: Subscription | null = null;

  /** `views`: this replica's view of each bucket it answers for, by the bucket's name; a question about another bucket is not answered. */
  constructor(
    private readonly client: NatsClient,
    private readonly views: ReadonlyMap<string, RevisionView>,
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
    const question = parseQuestion(message.data);
    const view = question && this.views.get(question.bucket);
    if (!question || !view) return;
    const { revision, id } = question;
    const subject = this.client.topology.barrierAnswer(this.client.settings.connectionName, id);
    const reply = (applied: boolean) => this.client.connection.publish(subject, encoder.encode(JSON.stringify({ replica: this.replica, applied } satisfies BarrierAnswer)));
    if (view.revision >= revision) return void reply(true);
    reply(false);
    if (await view.reached(revision, APPLY_TIMEOUT_MS)) reply(true);
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
  { subject = client.topology.configApplied, bucket = client.topology.configBucket, discoverMs = 100, timeoutMs = 2_000 } = {},
): Promise<BarrierOutcome> {
  const id = randomUUID().replaceAll('-', '');
  const answered = new Map<string, boolean>();
  const subscription = client.connection.subscribe(client.topology.barrierAnswers(id));
  const discovered = Date.now() + discoverMs;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const check = () => {
    if (Date.now() >= discovered && [...answered.values()].every(Boolean)) settle();
  };
  const timers = [setTimeout(check, discoverMs), setTimeout(settle, timeoutMs)];
  void (async () => {
    for await (const message of subscription) {
      const answer = parseAnswer(message.data);
      if (!answer) continue;
      answered.set(answer.replica, answered.get(answer.replica) === true || answer.applied);
      check();
    }
  })();
  client.connection.publish(subject, encoder.encode(JSON.stringify({ bucket, revision, id } satisfies BarrierQuestion)));
  try {
    await settled;
  } finally {
    timers.forEach(clearTimeout);
    subscription.unsubscribe();
  }
  return { replicas: answered.size, lagging: [...answered.values()].filter((applied) => !applied).length };
}

function parseQuestion(data: Uint8Array): BarrierQuestion | null {
  try {
    const { bucket, revision, id } = JSON.parse(decoder.decode(data)) as Partial<BarrierQuestion>;
    return typeof bucket === 'string' && Number.isSafeInteger(revision) && typeof id === 'string' && /^[0-9a-f]{32}$/.test(id) ? { bucket, revision: revision!, id } : null;
  } catch {
    return null;
  }
}

function parseAnswer(data: Uint8Array): BarrierAnswer | null {
  try {
    const { replica, applied } = JSON.parse(decoder.decode(data)) as Partial<BarrierAnswer>;
    return typeof replica === 'string' && typeof applied === 'boolean' ? { replica, applied } : null;
  } catch {
    return null;
  }
}
