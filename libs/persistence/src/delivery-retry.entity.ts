import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * A webhook delivery waiting for its next attempt, or failed (`failedAt`
 * set) and kept with its body for resendDelivery: the ledger. Owned by the
 * webhook-dispatcher, its only writer (its store applies the attempts
 * stream here, and claims); the api only reads it, and re-sends a delivery
 * by publishing it again on its endpoint's delivery subject.
 */
@Entity({ name: 'delivery_retry' })
// One row per delivery (the constraint's name as PostgreSQL gave it in the migration).
@Unique('delivery_retry_endpoint_id_event_id_key', ['endpointId', 'eventId'])
export class DeliveryRetryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId!: string;

  /** The event JSON as it is sent. */
  @Column({ type: 'bytea' })
  body!: Buffer;

  /** The attempt it waits for (1 for the first). */
  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz' })
  nextAttemptAt!: Date;

  /** A dispatcher replica has taken it until then. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  /**
   * Its endpoint is not active (paused, disabled): out of the claims' index
   * until the dispatcher releases it; a probe still finds it.
   */
  @Column({ type: 'boolean', default: false })
  held!: boolean;

  /** No more attempts: set when the delivery failed for good. */
  @Column({ name: 'failed_at', type: 'timestamptz', nullable: true })
  failedAt!: Date | null;

  /** When ingest accepted its event; null when unknown (a resend, a replay, or parked before this was kept). */
  @Column({ name: 'accepted_at', type: 'timestamptz', nullable: true })
  acceptedAt!: Date | null;

  /**
   * Parked before its first attempt (its endpoint busy or paused): the
   * deliveries stream's sequence of its message, its place among its
   * endpoint's first attempts, which go out in that order. Null otherwise.
   */
  @Column({ name: 'first_seq', type: 'bigint', nullable: true })
  firstSeq!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}
