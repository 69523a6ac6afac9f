import { Logger } from '@nestjs/common';
import { EndpointState, type EndpointHealth, type EndpointView, type HealthState } from '@app/messaging';
import { retryWhileTransient } from '@app/runtime';

/** What an attempt told of its endpoint's receiver. */
export type Observation = 'delivered' | 'failed' | 'gone';

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
 * every app, the api included, reads that one record.
 */
export class EndpointHealthTracker {
  private readonly logger = new Logger(EndpointHealthTracker.name);
  private readonly consecutiveFailures = new Map<string, number>();
  private readonly latest = new Map<string, EndpointHealth>();

  constructor(
    private readonly records: HealthRecords,
    private readonly pauseAfter: number,
  ) {}

  /** Takes one attempt's observation; returns the endpoint's new health when it changed (and publishes it). */
  observe(endpoint: Pick<EndpointView, 'id' | 'state' | 'resumeGeneration'>, observation: Observation, now: number): EndpointHealth | null {
    if (observation === 'delivered') {
      this.consecutiveFailures.delete(endpoint.id);
      return endpoint.state === EndpointState.PAUSED_BY_FAILURES ? this.change(endpoint, EndpointState.ACTIVE, now, 'a probe succeeded: resumed') : null;
    }
    if (observation === 'gone') {
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

  private change(endpoint: Pick<EndpointView, 'id' | 'resumeGeneration'>, state: HealthState, now: number, why: string): EndpointHealth {
    const health: EndpointHealth = { state, resumeGeneration: endpoint.resumeGeneration ?? 0, decidedAt: new Date(now).toISOString() };
    this.latest.set(endpoint.id, health);
    this.logger.warn(`endpoint ${endpoint.id}: ${why}`);
    void retryWhileTransient(`health of endpoint ${endpoint.id}`, async () => {
      if (this.latest.get(endpoint.id) === health) await this.records.put(endpoint.id, health);
    }).catch((error: Error) => this.logger.error(`endpoint ${endpoint.id}: cannot publish its health: ${error.message}`));
    return health;
  }
}
