import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { TokenScope } from '@app/domain';

/** A named API token: only its SHA-256 is kept (the token is shown once, when it is made). */
@Entity({ name: 'api_token' })
export class ApiTokenEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  scope!: TokenScope;

  /** The agents an AGENT token may post events for; empty: any. */
  @Column({ name: 'agent_ids', type: 'text', array: true, default: () => "'{}'" })
  agentIds!: string[];

  /** The endpoints a READ_ONLY token may read; null: every endpoint. */
  @Column({ name: 'endpoint_ids', type: 'text', array: true, nullable: true })
  endpointIds!: string[] | null;

  /** SHA-256 of the token, hex. */
  @Column({ name: 'token_hash', type: 'text', select: false })
  tokenHash!: string;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  /** Set by the database on every change, like an endpoint's: the config bucket's copy is replaced only by a higher one. */
  @Column({ type: 'bigint', insert: false, update: false, transformer: { to: (value: unknown) => value, from: (value: string) => Number(value) } })
  version!: number;

  @CreateDateColumn({ name: 'creation_date', type: 'timestamptz' })
  creationDate!: Date;
}
