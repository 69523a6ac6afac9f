import { Column, CreateDateColumn, Entity, JoinTable, ManyToMany, PrimaryColumn, UpdateDateColumn, type Relation } from 'typeorm';
import { EndpointEntity } from './endpoint.entity.js';

/** Which events reach which endpoints: every non-empty condition must hold. */
@Entity({ name: 'event_filter' })
export class EventFilterEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'camera_ids', type: 'uuid', array: true, default: () => "'{}'" })
  cameraIds!: string[];

  @Column({ name: 'agent_ids', type: 'uuid', array: true, default: () => "'{}'" })
  agentIds!: string[];

  @Column({ name: 'profile_group_ids', type: 'uuid', array: true, default: () => "'{}'" })
  profileGroupIds!: string[];

  @Column({ name: 'event_types', type: 'text', array: true, default: () => "'{}'" })
  eventTypes!: string[];

  /**
   * Set by the database on every change (ConfigVersions migration); the
   * config bucket's copy is replaced only by a higher one.
   */
  @Column({ type: 'bigint', insert: false, update: false, transformer: { to: (value: unknown) => value, from: (value: string) => Number(value) } })
  version!: number;

  @ManyToMany(() => EndpointEntity, (endpoint) => endpoint.eventFilters)
  @JoinTable({
    name: 'event_filter_endpoint',
    joinColumn: { name: 'event_filter_id', referencedColumnName: 'id' },
    inverseJoinColumn: { name: 'endpoint_id', referencedColumnName: 'id' },
  })
  endpoints!: Relation<EndpointEntity[]>;

  @CreateDateColumn({ name: 'creation_date', type: 'timestamptz' })
  creationDate!: Date;

  @UpdateDateColumn({ name: 'last_modified', type: 'timestamptz' })
  lastModified!: Date;
}
