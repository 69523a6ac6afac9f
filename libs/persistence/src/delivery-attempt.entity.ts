import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { DeliveryOutcome } from '@app/domain';

/**
 * One attempt to deliver one event to one webhook endpoint (the delivery
 * log). Owned by the webhook-dispatcher, which projects it from its delivery
 * changes; the api only reads it.
 */
@Entity({ name: 'delivery_attempt' })
export class DeliveryAttemptEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** The id of the delivery change the line was projected from: projecting it twice stores it once. */
  @Column({ name: 'record_id', type: 'uuid', nullable: true })
  recordId!: string | null;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId!: string;

  @Column({ type: 'integer' })
  attempt!: number;

  @Column({ name: 'attempted_at', type: 'timestamptz' })
  attemptedAt!: Date;

  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode!: number | null;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody!: string | null;

  @Column({ type: 'text' })
  outcome!: DeliveryOutcome;
}
