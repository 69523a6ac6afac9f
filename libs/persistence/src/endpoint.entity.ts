import { Column, CreateDateColumn, Entity, ManyToMany, PrimaryColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { EndpointType, ManualState, WebhookMeta, WebSocketStoredMeta } from '@app/domain';
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

  /** Its type's settings (a webhook's url and method, a websocket's access and own token's hash); never secrets. */
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  meta!: WebhookMeta | WebSocketStoredMeta;

  /**
   * A webhook's signing material — its current Standard Webhooks secret
   * (`whsec_…`), the previous one during its grace window, and its custom
   * headers — sealed with SECRET_KEYS (SecretBox, bound to the config key
   * `secrets.<id>`): the config bucket carries this very text. Never in meta.
   */
  @Column({ name: 'sealed_secrets', type: 'text', nullable: true, select: false })
  sealedSecrets!: string | null;

  /** The api's part of the state: ACTIVE or PAUSED_BY_HAND (the dispatcher's part is its health record in the config bucket). */
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
