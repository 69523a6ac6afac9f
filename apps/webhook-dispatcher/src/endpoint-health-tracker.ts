import { Logger } from '@nestjs/common';
import { EndpointState, type EndpointHealth, type EndpointView, type HealthState } from '@app/messaging';
import { retryWhileTransient } from '@app/runtime';
import type { AttemptVerdict } from './delivery-transitions.js';

/** A change of an endpoint's health, and when its record has landed (or been given up, and said so). */
export interface HealthChange {
  health: EndpointHealth;
  landed: Promise<void>;
}

/** Where an endpoint's health record goes (the config bucket's `health.<id>`, read by every app). */
export interface HealthRecords {
  put(endpointId: string, health: EndpointHealth): Promise<void>;
}

/**
 * Each endpoint's delivery health, from the attempts made to it: an
 * endpoint that fails `pauseAfter` attempts in a row is paused (its
 * deliveries then wait in the ledger while a probe tries one now and then);
 * a success of a paused endpoint's probe resumes it; 410 Gone disables it.
 *
 * The decision is the dispatcher's own record, never the api's endpoint
 * record: a pause by hand, a new URL or a deletion made meanwhile by the api
 * is never undone by it. It is published to the config bucket until it lands
 * (NATS may be away), unless a newer decision of the endpoint replaced it;
 * every app, the api included, reads that one record. The delivery flow
 * records the attempt that changed it only once it has landed, so a crash
 * in between sends that attempt again and decides again.
 */
export class EndpointHealthTracker {
  private readonly logger = new Logger(EndpointHealthTracker.name);
  private readonly consecutiveFailures = new Map<string, number>();
  private readonly latest = new Map<string, EndpointHealth>();

  constructor(
    private readonly records: HealthRecords,
    private readonly pauseAfter: number,
  ) {}

  /** Takes what one attempt came to; returns the endpoint's new health when it changed, as it is published. */
  observe(endpoint: Pick<EndpointView, 'id' | 'state' | 'resumeGeneration'>, verdict: AttemptVerdict, now: number): HealthChange | null {
    if (verdict.kind === 'delivered') {
      this.consecutiveFailures.delete(endpoint.id);
      return endpoint.state === EndpointState.PAUSED_BY_FAILURES ? this.change(endpoint, EndpointState.ACTIVE, now, 'a probe succeeded: resumed') : null;
    }
    if (verdict.kind === 'failed' && verdict.gone) {
      return endpoint.state === EndpointState.DISABLED_GONE ? null : this.change(endpoint, EndpointState.DISABLED_GONE, now, 'answered 410 Gone: disabled');
    }
    const failures = (this.consecutiveFailures.get(endpoint.id) ?? 0) + 1;
    this.consecutiveFailures.set(endpoint.id, failures);
    // Attempts that started before the pause was applied fail too: the pause is decided once (per resume generation).
    const latest = this.latest.get(endpoint.id);
    const pausedAlready = latest?.state === EndpointState.PAUSED_BY_FAILURES && latest.resumeGeneration === (endpoint.resumeGeneration ?? 0);
    if (failures < this.pauseAfter || endpoint.state !== EndpointState.ACTIVE || pausedAlready) return null;
    return this.change(endpoint, EndpointState.PAUSED_BY_FAILURES, now, `${failures} failed attempts in a row: paused, probing`);
  }

  private change(endpoint: Pick<EndpointView, 'id' | 'resumeGeneration'>, state: HealthState, now: number, why: string): HealthChange {
    const health: EndpointHealth = { state, resumeGeneration: endpoint.resumeGeneration ?? 0, decidedAt: new Date(now).toISOString() };
    this.latest.set(endpoint.id, health);
    this.logger.warn(`endpoint ${endpoint.id}: ${why}`);
    const landed = retryWhileTransient(`health of endpoint ${endpoint.id}`, async () => {
      if (this.latest.get(endpoint.id) === health) await this.records.put(endpoint.id, health);
    }).catch((error: Error) => this.logger.error(`endpoint ${endpoint.id}: cannot publish its health: ${error.message}`));
    return { health, landed };
  }
}
