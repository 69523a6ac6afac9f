import { Injectable, Logger } from '@nestjs/common';
import { DeliveryOutcome, type AttemptLine, type DeliveryChange, type HandleContext, type WebhookView } from '@app/messaging';
import { eventLog } from '@app/runtime';
import { DeliveryGate, type Decision } from './delivery-gate.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { DeliveryState, transition, type AttemptedFrom, type AttemptVerdict, type DeliveryEvent, type Transition } from './delivery-transitions.js';
import { DispatcherMetrics } from './dispatcher.metrics.js';
import { EndpointHealthTracker, type HealthChange } from './endpoint-health-tracker.js';
import { EndpointLanes } from './endpoint-lanes.js';
import { FirstAttemptOrder } from './first-attempt-order.js';
import { RetryPolicy } from './retry-policy.js';
import { WebhookClient, type AttemptResult } from './webhook-client.js';
import { WebhookSigner } from './webhook-signer.js';

/** One webhook delivery on its way: fresh from the deliveries stream, or claimed from the ledger. */
export interface Delivery {
  from: AttemptedFrom;
  endpointId: string;
  eventId: string;
  body: Uint8Array;
  /** The attempt it is due for (1 for a fresh delivery). */
  attempt: number;
  /** When ingest accepted its event (epoch milliseconds); null when unknown (a resend, a replay). */
  acceptedAt: number | null;
  /** A claimed delivery of an endpoint paused by failures, sent to test it. */
  probe?: boolean;
  /** A delivery the api re-sent: when it is due (epoch milliseconds). It is parked for then. */
  dueAt?: number | null;
  /**
   * Its place among its endpoint's first attempts: a fresh delivery's
   * message sequence in the deliveries stream; a claimed one's `first_seq`
   * (null unless it was parked before its first attempt).
   */
  firstSeq?: number | null;
}

/** Where a delivery is taken in its endpoint's order: a partitioned consumer's turn, or the scheduler's run of first attempts. */
export type DeliveryOrder = Pick<HandleContext, 'turn' | 'passTurn' | 'signal'> & {
  /** Told whether the delivery took its lane (false: it was held back, and those after it in the run wait). */
  decided?: (sent: boolean) => void;
};

/** What parks a fresh delivery before its first attempt in its endpoint's order. */
const QUEUED = new Set<DeliveryEvent['kind']>(['busy', 'paused', 'behind']);

/**
 * Takes one webhook delivery one step, the same way for the consumer's
 * fresh deliveries and the scheduler's claimed ones: asks the DeliveryGate
 * whether it goes now; if so signs it, sends it holding a lane, and has the
 * RetryPolicy judge the answer and the EndpointHealthTracker learn from it;
 * then records what the delivery came to (the transition) in the attempts
 * stream, which the ledger applies. None of this needs PostgreSQL.
 */
@Injectable()
export class DeliveryFlow {
  private readonly logger = new Logger(DeliveryFlow.name);

  constructor(
    private readonly gate: DeliveryGate,
    private readonly signer: WebhookSigner,
    private readonly client: WebhookClient,
    private readonly policy: RetryPolicy,
    private readonly health: EndpointHealthTracker,
    private readonly lanes: EndpointLanes,
    private readonly firstAttempts: FirstAttemptOrder,
    private readonly recorder: DeliveryRecorder,
    private readonly metrics: DispatcherMetrics,
  ) {}

  /**
   * Resolves once what the delivery came to is stored (or, for a transition
   * to FRESH or a dead letter, decided). `keepAlive` is called while that
   * waits (the consumer keeps its message meanwhile). `order`: the
   * partitioned consumer's turn of the endpoint: the delivery is decided
   * (takes a lane, or is parked) after the endpoint's earlier ones were. A
   * fresh one parked before its first attempt keeps its place in the
   * ledger, and the endpoint's later ones queue behind it (FirstAttemptOrder).
   */
  async advance(delivery: Delivery, keepAlive?: () => void, order?: DeliveryOrder): Promise<Transition> {
    const { dueAt, endpointId, from } = delivery;
    if (order) {
      // A fresh delivery takes its lane after the endpoint's earlier ones took theirs: first attempts go out in order.
      await order.turn;
    }
    let decision: Decision;
    // The partition's tenure, for a fresh delivery read in partitions: its endpoint's first attempts are kept in order.
    const tenure = from === DeliveryState.FRESH && !dueAt ? order?.signal : undefined;
    let queued: ((seq: number) => void) | null = null;
    try {
      if (dueAt) return await this.record(delivery, { kind: 'resent', at: dueAt }, null, keepAlive);
      const behind = await this.firstAttempts.behind(endpointId, tenure);
      const inOrder = from === DeliveryState.FRESH || (delivery.attempt === 1 && delivery.firstSeq != null);
      decision = await this.gate.decide(endpointId, { from, probe: delivery.probe, inOrder, behind });
      // Before the turn passes: the endpoint's next fresh delivery queues behind this one.
      if (tenure && !decision.send && QUEUED.has(decision.event.kind)) queued = this.firstAttempts.parking(endpointId, tenure);
      order?.decided?.(decision.send);
    } finally {
      order?.passTurn();
    }
    if (!decision.send) return this.record(delivery, decision.event, null, keepAlive, queued);
    const { endpoint, release } = decision;
    // The partition moved to another replica while this one waited for a lane: that one sends it, never both at once.
    if (order?.signal?.aborted) {
      release();
      throw order.signal.reason instanceof Error ? order.signal.reason : new Error('the partition is no longer this replica\'s');
    }
    try {
      const attemptedAt = Date.now();
      const headers = this.signer.headers(endpoint.id, delivery.eventId, delivery.body, attemptedAt);
      if (!headers) return await this.record(delivery, { kind: 'unsigned' }, null, keepAlive);
      const { url, method } = endpoint.meta;
      const result = await this.client.send({ url, method: method ?? 'POST', headers, body: delivery.body });
      // The lane is free once the receiver has answered (or not), before the outcome is recorded.
      release();
      const verdict = this.policy.judge(delivery.attempt, result, Date.now());
      const healthChange = this.learn(endpoint, result, verdict);
      this.metrics.attempted(delivery.attempt, verdict.kind, statusOf(result), result.durationMs, delivery.acceptedAt);
      const line = attemptLine(delivery.attempt, attemptedAt, result, verdict.kind);
      this.logger.debug(`attempt ${delivery.attempt} to ${endpoint.id}: ${statusOf(result) ?? (result.kind === 'no-answer' ? result.error : 'no answer')}, ${verdict.kind}`, ...eventLog(delivery.eventId));
      // Recorded once the health it changed has landed: a crash in between sends the attempt again, and decides again.
      if (healthChange) await healthChange.landed;
      return await this.record(delivery, { kind: 'attempted', verdict }, line, keepAlive);
    } finally {
      release();
    }
  }

  /** What the attempt tells of the endpoint: its lanes turn over and adapt, its health follows (a change of it is returned). */
  private learn(endpoint: WebhookView, result: AttemptResult, verdict: AttemptVerdict): HealthChange | null {
    if (result.kind === 'answered') this.lanes.answered(endpoint.id);
    else this.lanes.unanswered(endpoint.id);
    if (verdict.kind === 'delivered') this.lanes.succeeded(endpoint.id);
    else this.lanes.failed(endpoint.id);
    return this.health.observe(endpoint, verdict, Date.now());
  }

  /** `queued`: a fresh delivery parked in its endpoint's order of first attempts (its place goes with it), told where its park is stored. */
  private async record(delivery: Delivery, event: DeliveryEvent, log: AttemptLine | null, keepAlive?: () => void, queued: ((seq: number) => void) | null = null): Promise<Transition> {
    const step = transition(delivery.from, delivery.attempt, event, Date.now());
    const { ledger } = step;
    if (delivery.from === DeliveryState.FRESH && ledger.kind === 'park' && event.kind !== 'attempted') {
      const reason = event.kind === 'busy' || event.kind === 'paused' || event.kind === 'resent' || event.kind === 'behind' ? event.kind : 'other';
      this.metrics.parked(reason);
      this.logger.debug(`parked before its first attempt to ${delivery.endpointId} (${reason})`, ...eventLog(delivery.eventId));
    }
    // A fresh delivery redelivered, or dead-lettered: nothing to record.
    if (ledger.kind === 'none' && log === null) return step;
    const change: Omit<DeliveryChange, 'id'> = {
      endpointId: delivery.endpointId,
      eventId: delivery.eventId,
      log: log ?? (event.kind === 'disabled' && delivery.from === DeliveryState.FRESH ? notSentLine() : null),
      retry: ledger,
      // A claimed delivery's row is in the ledger already, its body with it: only a fresh one carries its body there.
      ...(delivery.from === DeliveryState.FRESH && (ledger.kind === 'park' || ledger.kind === 'fail') ? { body: Buffer.from(delivery.body).toString('base64') } : {}),
      ...(ledger.kind === 'park' && delivery.acceptedAt !== null ? { acceptedAt: new Date(delivery.acceptedAt).toISOString() } : {}),
      ...(queued && delivery.firstSeq != null ? { firstSeq: delivery.firstSeq } : {}),
    };
    let seq = 0;
    try {
      seq = await this.recorder.record(change, keepAlive);
    } finally {
      queued?.(seq);
    }
    return step;
  }
}

const statusOf = (result: AttemptResult): number | null => (result.kind === 'answered' ? result.status : null);

function attemptLine(attempt: number, attemptedAt: number, result: AttemptResult, verdict: 'delivered' | 'retry' | 'failed'): AttemptLine {
  const status = statusOf(result);
  return {
    attempt,
    attemptedAt: new Date(attemptedAt).toISOString(),
    statusCode: status,
    durationMs: result.durationMs,
    error: result.kind === 'no-answer' ? result.error : verdict === 'delivered' ? null : `HTTP ${status}`,
    responseBody: result.kind === 'answered' ? result.body : null,
    outcome: verdict === 'delivered' ? DeliveryOutcome.SUCCEEDED : verdict === 'retry' ? DeliveryOutcome.RETRYING : DeliveryOutcome.FAILED,
  };
}

/** The delivery log's line for a fresh delivery of an endpoint disabled by 410 Gone: kept as failed, never sent. */
function notSentLine(): AttemptLine {
  return {
    attempt: 0,
    attemptedAt: new Date().toISOString(),
    statusCode: null,
    durationMs: 0,
    error: 'not sent: the endpoint is disabled (410 Gone)',
    responseBody: null,
    outcome: DeliveryOutcome.FAILED,
  };
}
