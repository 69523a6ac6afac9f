import { Column, CreateDateColumn, Entity, ManyToMany, PrimaryColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { EndpointType, ManualState } from '@app/messaging';
import { EventFilterEntity } from './event-filter.entity.js';

/** An integrator's endpoint: where events go (a websocket or a webhook URL). */
@Entity({ name: 'endpoint' })
export class EndpointEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  type!: EndpointType;

  /** Type-specific settings (a webhook's url and method); never secrets. */
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  meta!: Record<string, unknown>;

  /** A webhook's current Standard Webhooks secret (`whsec_…`); never part of meta. */
  @Column({ name: 'signing_secret', type: 'text', nullable: true, select: false })
  signingSecret!: string | null;

  /** The secret before the last rotation, still used to sign until it expires. */
  @Column({ name: 'previous_signing_secret', type: 'text', nullable: true, select: false })
  previousSigningSecret!: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true, select: false })
  previousSecretExpiresAt!: Date | null;

  /** Headers sent with every webhook delivery (the receiver's own auth); their names show in meta. */
  @Column({ name: 'custom_headers', type: 'jsonb', default: () => "'{}'::jsonb", select: false })
  customHeaders!: Record<string, string>;

  /** The api's part of the state: ACTIVE or PAUSED_BY_HAND (the dispatcher's part is EndpointHealthEntity). */
  @Column({ type: 'text', default: 'ACTIVE' })
  state!: ManualState;

  /** Incremented by each resume by hand: the dispatcher's health from before it no longer counts. */
  @Column({ name: 'resume_generation', type: 'integer', default: 0 })
  resumeGeneration!: number;

  /**
   * Set by the database on every change (ConfigVersions migration); the
   * config bucket's copy is replaced only by a higher one.
   */
  @Column({ type: 'bigint', insert: false, update: false, transformer: { to: (value: unknown) => value, from: (value: string) => Number(value) } })
  version!: number;

  @ManyToMany(() => EventFilterEntity, (filter) => filter.endpoints)
  eventFilters!: Relation<EventFilterEntity[]>;

  @CreateDateColumn({ name: 'creation_date', type: 'timestamptz' })
  creationDate!: Date;

  @UpdateDateColumn({ name: 'last_modified', type: 'timestamptz' })
  lastModified!: Date;
}
