import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { HealthState } from '@app/domain';

/** An endpoint's delivery health: the webhook-dispatcher's record (written by its projector only). */
@Entity({ name: 'endpoint_health' })
export class EndpointHealthEntity {
  @PrimaryColumn({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  @Column({ type: 'text' })
  state!: HealthState;

  /** The endpoint's resume generation when the dispatcher decided this health. */
  @Column({ name: 'resume_generation', type: 'integer' })
  resumeGeneration!: number;

  @Column({ name: 'changed_at', type: 'timestamptz' })
  changedAt!: Date;
}
