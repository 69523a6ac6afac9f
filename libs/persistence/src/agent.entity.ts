import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * An agent made through the api (createAgent): its NATS credentials' user
 * key (operator mode; the credentials themselves are shown once and kept
 * nowhere) and its AGENT token, each replaced by rotateAgentCredentials and
 * revoked by revokeAgent.
 */
@Entity({ name: 'agent' })
export class AgentEntity {
  /** The agent's id, lower case, as its events carry it. */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** The public key of its current NATS user (operator mode); null when NATS credentials are not issued. */
  @Column({ name: 'user_key', type: 'text', nullable: true })
  userKey!: string | null;

  /**
   * Every NATS user key of it revoked so far (by rotation or revocation):
   * the api asks the issuer to hold them revoked again now and then
   * (AgentRevocations), should the server's copy of the agents account lose them.
   */
  @Column({ name: 'revoked_keys', type: 'text', array: true, default: () => "'{}'" })
  revokedKeys!: string[];

  /** Its current AGENT token (api_token.id). */
  @Column({ name: 'token_id', type: 'uuid', nullable: true })
  tokenId!: string | null;

  @Column({ name: 'credentials_issued_at', type: 'timestamptz', nullable: true })
  credentialsIssuedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @CreateDateColumn({ name: 'creation_date', type: 'timestamptz' })
  creationDate!: Date;
}
