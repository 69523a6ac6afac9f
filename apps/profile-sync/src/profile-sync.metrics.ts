import { Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import { HealthServer } from '@app/runtime';

/** profile-sync's metrics (docs/operations.md: Metrics). */
@Injectable()
export class ProfileSyncMetrics {
  /** Events diverted to the lost-events store (every candidate's profile deleted); a redelivered one is counted once. */
  readonly lost: Counter;

  constructor(health: HealthServer) {
    this.lost = new Counter({ name: 'event_service_events_lost_total', help: 'Events recorded as lost events (every candidate profile deleted), not delivered', registers: [health.metrics] });
  }
}
