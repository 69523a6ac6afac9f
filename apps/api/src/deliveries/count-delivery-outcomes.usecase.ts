import type { DataSource } from 'typeorm';
import { DeliveryOutcome } from '@app/domain';

/** One hour of an endpoint's delivery log, its attempts counted by outcome. */
export interface DeliveryOutcomeBucket {
  from: Date;
  succeeded: number;
  retrying: number;
  failed: number;
}

interface BucketRow {
  endpoint_id: string;
  from: Date;
  succeeded: number;
  retrying: number;
  failed: number;
}

/**
 * Hourly buckets of the webhook endpoints' delivery logs, counted in
 * PostgreSQL in one query for every endpoint asked (the api's loader asks for
 * a page of endpoints at once). The last `hours` whole hours of UTC, the
 * current one included, each endpoint getting every bucket, empty ones as
 * zeros. The count reads delivery_attempt through its (endpoint_id,
 * attempted_at) index, one range per endpoint.
 */
export class CountDeliveryOutcomes {
  constructor(private readonly dataSource: DataSource) {}

  async execute(endpointIds: readonly string[], hours: number): Promise<Map<string, DeliveryOutcomeBucket[]>> {
    const rows: BucketRow[] = await this.dataSource.query(
      `WITH bounds AS (
         SELECT date_trunc('hour', now(), 'UTC') - ($2::int - 1) * interval '1 hour' AS first, date_trunc('hour', now(), 'UTC') AS last
       ), counted AS (
         SELECT attempt.endpoint_id, date_trunc('hour', attempt.attempted_at, 'UTC') AS hour,
                count(*) FILTER (WHERE attempt.outcome = $3)::int AS succeeded,
                count(*) FILTER (WHERE attempt.outcome = $4)::int AS retrying,
                count(*) FILTER (WHERE attempt.outcome = $5)::int AS failed
           FROM delivery_attempt attempt, bounds
          WHERE attempt.endpoint_id = ANY($1::uuid[]) AND attempt.attempted_at >= bounds.first
          GROUP BY 1, 2
       )
       SELECT asked.endpoint_id, hour.start AS "from",
              coalesce(counted.succeeded, 0) AS succeeded, coalesce(counted.retrying, 0) AS retrying, coalesce(counted.failed, 0) AS failed
         FROM unnest($1::uuid[]) AS asked(endpoint_id)
        CROSS JOIN bounds
        CROSS JOIN generate_series(bounds.first, bounds.last, interval '1 hour') AS hour(start)
         LEFT JOIN counted ON counted.endpoint_id = asked.endpoint_id AND counted.hour = hour.start
        ORDER BY asked.endpoint_id, hour.start`,
      [endpointIds, hours, DeliveryOutcome.SUCCEEDED, DeliveryOutcome.RETRYING, DeliveryOutcome.FAILED],
    );
    const buckets = new Map<string, DeliveryOutcomeBucket[]>(endpointIds.map((id) => [id, []]));
    for (const { endpoint_id: endpointId, ...bucket } of rows) buckets.get(endpointId)?.push(bucket);
    return buckets;
  }
}
