import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** The kinds of replay: one endpoint's deliveries again, or a time range of events through today's filters. */
const REPLAY_KINDS = ['REDELIVER', 'REROUTE'] as const;
export type ReplayKind = (typeof REPLAY_KINDS)[number];

/** A replay as it was asked for; written by the api alone (the run's progress is ReplayProgressEntity). */
@Entity({ name: 'replay_job' })
export class ReplayJobEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  kind!: ReplayKind;

  /** The endpoint a REDELIVER re-sends to (its key); null for a REROUTE. */
  @Column({ name: 'endpoint_id', type: 'uuid', nullable: true })
  endpointId!: string | null;

  /** WEB_HOOK or WEB_SOCKET: the subject the deliveries are read from. */
  @Column({ name: 'endpoint_type', type: 'text', nullable: true })
  endpointType!: string | null;

  @Column({ name: 'from_time', type: 'timestamptz' })
  from!: Date;

  @Column({ name: 'to_time', type: 'timestamptz' })
  to!: Date;

  /** Counts what would be sent, sends nothing. */
  @Column({ name: 'dry_run', type: 'boolean' })
  dryRun!: boolean;

  /** The job's own cap in deliveries a second; null: the workers' default (REPLAY_RATE_PER_SECOND). */
  @Column({ name: 'rate_per_second', type: 'integer', nullable: true })
  ratePerSecond!: number | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'cancel_requested_at', type: 'timestamptz', nullable: true })
  cancelRequestedAt!: Date | null;
}
