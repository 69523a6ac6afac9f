import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { EventRejection } from '@app/events';
import { HealthServer } from '@app/runtime';

/** Where an event came in. */
export type IngestSource = 'http' | 'nats';

/** Why ingest refused an event: the rejection codes of its answer, and the token checks before it. */
export type RejectionReason = EventRejection['code'] | 'UNAUTHENTICATED';
const REJECTION_REASONS: readonly RejectionReason[] = ['MALFORMED_JSON', 'DUPLICATE_KEY', 'INVALID_EVENT', 'PAYLOAD_TOO_LARGE', 'FORBIDDEN', 'CAMERA_OF_ANOTHER_AGENT', 'TOO_MANY_CAMERAS', 'UNAUTHENTICATED'];

/** Ingest's metrics (docs/operations.md: Metrics). */
@Injectable()
export class IngestMetrics {
  /** Events stored in the events stream (a duplicate of one stored already is not counted again). */
  readonly ingested: Counter<'source'>;
  /** Events refused: answered 4xx over HTTP, dead-lettered from NATS. */
  readonly rejected: Counter<'reason'>;

  constructor(health: HealthServer) {
    const registers = [health.metrics];
    this.ingested = new Counter({ name: 'event_service_events_ingested_total', help: 'Events ingest stored, by where they came in (http, nats)', labelNames: ['source'], registers });
    this.rejected = new Counter({ name: 'event_service_events_rejected_total', help: 'Events ingest refused, by reason code', labelNames: ['reason'], registers });
    // Every series from the start, so that a rate over a counter that never moved is 0, not absent.
    for (const source of ['http', 'nats'] as const) this.ingested.inc({ source }, 0);
    for (const reason of REJECTION_REASONS) this.rejected.inc({ reason }, 0);
  }

  reject(reason: RejectionReason): void {
    this.rejected.inc({ reason });
  }
}
