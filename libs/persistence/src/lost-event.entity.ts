import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An event not delivered because every candidate's profile was deleted (OMNI's "lost" events). */
@Entity({ name: 'lost_event' })
export class LostEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** The event id's key (lower case). */
  @Column({ name: 'event_id', type: 'text' })
  eventId!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ name: 'camera_id', type: 'uuid' })
  cameraId!: string;

  @Column({ name: 'agent_id', type: 'uuid' })
  agentId!: string;

  /** As the agent sent it. */
  @Column({ name: 'detection_date', type: 'text' })
  detectionDate!: string;

  /** The same instant, for filtering and ordering. */
  @Column({ name: 'detected_at', type: 'timestamptz' })
  detectedAt!: Date;

  /** The event as it would have been delivered, in the agent's key order (json keeps it; jsonb would not). */
  @Column({ type: 'json' })
  event!: Record<string, unknown>;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ name: 'deleted_profile_ids', type: 'uuid', array: true })
  deletedProfileIds!: string[];

  @Column({ name: 'diverted_at', type: 'timestamptz' })
  divertedAt!: Date;
}
