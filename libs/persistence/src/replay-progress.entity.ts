import { Column, Entity, PrimaryColumn } from 'typeorm';

const REPLAY_RUN_STATES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type ReplayRunState = (typeof REPLAY_RUN_STATES)[number];

/**
 * How far a replay job got: written by the webhook-dispatcher replica that
 * holds the job's lease (only while its `worker` is still this row's), read
 * by the api. A job without a row has not been taken yet.
 */
@Entity({ name: 'replay_progress' })
export class ReplayProgressEntity {
  @PrimaryColumn({ name: 'job_id', type: 'uuid' })
  jobId!: string;

  @Column({ type: 'text' })
  state!: ReplayRunState;

  /** Messages in the job's range when it was taken (an estimate while messages are added or trimmed). */
  @Column({ type: 'bigint', nullable: true })
  total!: string | null;

  /** Messages read. */
  @Column({ type: 'bigint' })
  done!: string;

  /** Deliveries published (a dry run: that would be). */
  @Column({ type: 'bigint' })
  sent!: string;

  /** Messages read and not sent: an earlier replay's copies, events whose candidates were all deleted since, endpoints already routed. */
  @Column({ type: 'bigint' })
  skipped!: string;

  /** The stream sequence of the last message handled: a replica that takes the job over goes on after it. */
  @Column({ type: 'bigint' })
  position!: string;

  /** Messages read a second, lately. */
  @Column({ type: 'double precision', nullable: true })
  rate!: number | null;

  /** Deliveries by endpoint id. */
  @Column({ type: 'jsonb' })
  reached!: Record<string, number>;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The replica running it (host:pid). */
  @Column({ type: 'text' })
  worker!: string;

  @Column({ name: 'started_at', type: 'timestamptz' })
  startedAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
