import { setTimeout as sleep } from 'node:timers/promises';
import { decode, encodeAccount, encodeUser, fmtCreds, type Account, type User } from '@nats-io/jwt';
import { createUser, type KeyPair } from '@nats-io/nkeys';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Topology } from './topology.js';

/**
 * NATS operator mode (docs/operations.md, "Agents' NATS credentials"): every
 * user is a JWT signed with an account's signing key, every account a JWT
 * signed with the operator's signing key, and the server's full resolver
 * holds the account JWTs. An agent's credentials are a user JWT of the AGENTS
 * account; revoking them re-signs that account's JWT with the user's key in
 * its revocations and pushes it to the servers through the system account.
 */

/**
 * An account's limits with nothing limited and JetStream off. A JWT's limit
 * left out counts as 0, not as "no limit": every account starts from these.
 */
export const OPEN_ACCOUNT_LIMITS = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
  disallow_bearer: false,
  mem_storage: 0,
  disk_storage: 0,
  streams: 0,
  consumer: 0,
};

/** JetStream without limits of its own (the streams' own limits bound it): the service's account. */
export const JETSTREAM_ACCOUNT_LIMITS = { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

/** The files of an operator set-up (scripts/nats-operator.ts) that the credentials issuer reads, under ISSUER_KEYS_DIR. */
export const ISSUER_FILES = {
  /** `OperatorAccounts`: the operator's and each account's public keys. */
  accounts: 'accounts.json',
  /** Signs account JWTs: the AGENTS account's again, with its revocations. */
  operatorSigningKey: 'operator-signing.nk',
  /** Signs agents' user JWTs: nothing else. */
  agentsSigningKey: 'AGENTS-signing.nk',
  /** A system-account user allowed to push account JWTs and list connections, and nothing else. */
  systemCreds: 'issuer-system.creds',
} as const;

/** accounts.json of an operator set-up. */
export interface OperatorAccounts {
  operator: string;
  systemAccount: string;
  /** Each account's public key, by the layout's name (EVENT_SERVICE, AGENTS, PLATFORM). */
  accounts: Record<string, string>;
}

/** The inbox prefix an agent's client must use: the only subjects it may subscribe to. */
export function agentInboxPrefix(agentId: string): string {
  return `_INBOX_${agentId}`;
}

/** What an agent's user JWT allows: publishing its own events (their acks come back to its inbox), reading its own inbox. */
export function agentPermissions(topology: Topology, agentId: string): Partial<User> {
  return {
    pub: { allow: [topology.agentEvents(agentId)], deny: [] },
    sub: { allow: [`${agentInboxPrefix(agentId)}.>`], deny: [] },
  };
}

/** The api's request to issue an agent's credentials (new ones: the old keys are revoked by a revoke request). */
export interface IssueRequest {
  agentId: string;
  name: string;
}
/** The api's request to revoke user keys (of one agent, or every key revoked so far: AgentRevocations). */
export interface RevokeRequest {
  agentId?: string;
  userKeys: string[];
}
export type IssuerReply<T> = ({ ok: true } & T) | { ok: false; error: string };
export interface IssuedCredentials {
  /** The `.creds` file's text: the user JWT and its seed. Shown once; the issuer keeps no copy. */
  creds: string;
  /** The user's public key: what a revocation names. */
  userKey: string;
}

/** How long a revocation waits for the server to close the revoked users' connections. */
const REVOKE_SETTLE_MS = 10_000;
/** Rounds of re-signing when another issuer replica pushed the account in between. */
const REVOKE_ROUNDS = 5;

/**
 * Issues and revokes agents' NATS credentials. Holds the agents account's
 * signing key (user JWTs) and the operator's signing key (the agents account's
 * JWT, re-signed with its revocations), and a system-account connection that
 * pushes it: none of which an internet-facing process holds.
 */
export class AgentCredentialsIssuer {
  /** Revocations of this process, one after another: each re-signs the account from what the server holds. */
  private revoking: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly topology: Topology,
    private readonly agentsAccount: string,
    private readonly agentsSigner: KeyPair,
    private readonly operatorSigner: KeyPair,
    private readonly system: NatsConnection,
  ) {}

  async issue({ agentId, name }: IssueRequest): Promise<IssuedCredentials> {
    const user = createUser();
    const token = await encodeUser(name ? `${name} (${agentId})` : agentId, user, this.agentsAccount, agentPermissions(this.topology, agentId), { signer: this.agentsSigner });
    return { creds: new TextDecoder().decode(fmtCreds(token, user)), userKey: user.getPublicKey() };
  }

  /** Returns once the server holds the account with the keys revoked and none of their connections is open. */
  revoke(userKeys: string[]): Promise<void> {
    const done = this.revoking.then(() => this.revokeNow(userKeys));
    this.revoking = done.catch(() => undefined);
    return done;
  }

  private async revokeNow(userKeys: string[]): Promise<void> {
    if (userKeys.length === 0) return;
    for (let round = 0; round < REVOKE_ROUNDS; round += 1) {
      const current = decode<Account>(await this.accountJwt());
      const revocations = { ...(current.nats.revocations ?? {}) };
      // A user JWT issued at or before this second is refused: the agent's next credentials have new keys.
      const now = Math.floor(Date.now() / 1_000);
      const missing = userKeys.filter((key) => revocations[key] === undefined);
      if (missing.length === 0) return this.waitForDisconnects(userKeys);
      for (const key of missing) revocations[key] = now;
      const { type: _type, version: _version, ...claims } = current.nats as Account & { type?: string; version?: number };
      const signed = await encodeAccount(current.name, this.agentsAccount, { ...claims, revocations }, { signer: this.operatorSigner });
      const reply = JSON.parse(new TextDecoder().decode((await this.system.request('$SYS.REQ.CLAIMS.UPDATE', signed, { timeout: 5_000 })).data)) as {
        data?: { code?: number };
        error?: { description?: string };
      };
      if (reply.error || reply.data?.code !== 200) throw new Error(`the server refused the agents account's JWT: ${reply.error?.description ?? JSON.stringify(reply)}`);
      // Another issuer replica may have pushed the account in between: the next round checks what the server holds.
    }
    const held = decode<Account>(await this.accountJwt()).nats.revocations ?? {};
    if (userKeys.some((key) => held[key] === undefined)) throw new Error('the agents account kept changing while keys were revoked');
    await this.waitForDisconnects(userKeys);
  }

  private async accountJwt(): Promise<string> {
    const reply = await this.system.request(`$SYS.REQ.ACCOUNT.${this.agentsAccount}.CLAIMS.LOOKUP`, '', { timeout: 5_000 });
    const text = new TextDecoder().decode(reply.data);
    if (!text.startsWith('ey')) throw new Error(`no JWT of the agents account: ${text.slice(0, 200)}`);
    return text;
  }

  /** Waits until no server lists a connection of the revoked users (the server closes them on the update). */
  private async waitForDisconnects(userKeys: string[]): Promise<void> {
    const revoked = new Set(userKeys);
    const deadline = Date.now() + REVOKE_SETTLE_MS;
    for (;;) {
      const open = await this.openConnections();
      if (!open.some((user) => revoked.has(user))) return;
      if (Date.now() > deadline) throw new Error(`revoked users still connected after ${REVOKE_SETTLE_MS} ms`);
      await sleep(50);
    }
  }

  /** The users of the agents account's open connections, on every server that answers. */
  private async openConnections(): Promise<string[]> {
    const replies = await this.system.requestMany('$SYS.REQ.SERVER.PING.CONNZ', JSON.stringify({ acc: this.agentsAccount, auth: true, limit: 100_000 }), {
      maxWait: 1_000,
      strategy: 'stall',
      stall: 200,
    });
    const users: string[] = [];
    for await (const reply of replies) {
      const body = JSON.parse(new TextDecoder().decode(reply.data)) as { data?: { connections?: Array<{ authorized_user?: string }> } };
      for (const connection of body.data?.connections ?? []) if (connection.authorized_user) users.push(connection.authorized_user);
    }
    return users;
  }
}
