import { Column, CreateDateColumn, Entity, ManyToMany, PrimaryColumn, UpdateDateColumn, type Relation } from 'typeorm';
import type { EndpointType } from '@app/messaging';
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

  @ManyToMany(() => EventFilterEntity, (filter) => filter.endpoints)
  eventFilters!: Relation<EventFilterEntity[]>;

  @CreateDateColumn({ name: 'creation_date', type: 'timestamptz' })
  creationDate!: Date;

  @UpdateDateColumn({ name: 'last_modified', type: 'timestamptz' })
  lastModified!: Date;
}
