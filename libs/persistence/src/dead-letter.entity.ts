import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { DeadLetterState } from '@app/domain';

/**
 * A record of the dead-letter stream, projected by the webhook-dispatcher
 * (its only writer): what gave up on which message and why, the message as
 * it was, and what an operator did about it since.
 */
@Entity({ name: 'dead_letter' })
export class DeadLetterEntity {
  /** Its sequence in the dead-letter stream. */
  @PrimaryColumn({ type: 'bigint' })
  seq!: string;

  /** The app whose consumer gave up on it (ingest, profile-sync, filter-router, webhook-dispatcher). */
  @Column({ type: 'text' })
  app!: string;

  /** The durable consumer that gave up on it. */
  @Column({ type: 'text' })
  consumer!: string;

  /** A DeadLetterReason code. */
  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'text' })
  detail!: string;

  /** Where the message was read, and where a resubmission sends it. */
  @Column({ name: 'source_subject', type: 'text' })
  sourceSubject!: string;

  @Column({ name: 'source_sequence', type: 'bigint', nullable: true })
  sourceSequence!: string | null;

  /** The event's key (idKey), when the message names one. */
  @Column({ name: 'event_id', type: 'text', nullable: true })
  eventId!: string | null;

  /** The original message's headers (no `Nats-*`, no dead-letter headers), sent again with a resubmission. */
  @Column({ type: 'jsonb' })
  headers!: Record<string, string>;

  @Column({ type: 'bytea' })
  body!: Buffer;

  @Column({ name: 'dead_lettered_at', type: 'timestamptz' })
  deadLetteredAt!: Date;

  @Column({ type: 'text' })
  state!: DeadLetterState;

  @Column({ name: 'resolved_at', type: 'timestamptz', nullable: true })
  resolvedAt!: Date | null;
}
