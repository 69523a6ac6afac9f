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

/** How long a revocation waits for the servers to close the revoked users' connections. */
const REVOKE_SETTLE_MS = 10_000;
/** Rounds of re-signing when the server's copy of the account changed in between. */
const REVOKE_ROUNDS = 5;
/**
 * The time a revocation names: a user JWT issued at or before it is refused.
 * Every user key is new and used once, so a time far ahead refuses the key
 * for good whatever the clocks of the machines that issued and revoked it.
 */
const REVOKED_UNTIL = 4_102_444_800; // 2100-01-01
/** How long the servers are given to answer a ping or a connection list. */
const SERVERS_WAIT_MS = 1_000;
/** Agents' subscriptions at most, each: its inbox is what a client uses (the account's own limit bounds all of them). */
const AGENT_MAX_SUBSCRIPTIONS = 16;

/** What an issuer's system user may ask the servers, about the agents account alone. */
export function issuerSystemPermissions(agentsAccount: string): Partial<User> {
  return {
    pub: {
      allow: [`$SYS.REQ.ACCOUNT.${agentsAccount}.CLAIMS.UPDATE`, `$SYS.REQ.ACCOUNT.${agentsAccount}.CLAIMS.LOOKUP`, `$SYS.REQ.ACCOUNT.${agentsAccount}.CONNZ`, '$SYS.REQ.SERVER.PING'],
      deny: [],
    },
    sub: { allow: ['_INBOX.>'], deny: [] },
  };
}

/**
 * Issues and revokes agents' NATS credentials. Holds the agents account's
 * signing key (user JWTs) and the operator's signing key (the agents account's
 * JWT, re-signed with its revocations), and a system-account connection that
 * may push that account's JWT and list its connections, nothing else: none of
 * which an internet-facing process holds. Run one issuer: its revocations
 * follow one another (two issuers could each push an account read before the
 * other's push; the api's AgentRevocations would restore the lost one).
 */
export class AgentCredentialsIssuer {
  /** Revocations, one after another: each re-signs the account from what the server holds. */
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
    const claims: Partial<User> = { ...agentPermissions(this.topology, agentId), subs: AGENT_MAX_SUBSCRIPTIONS, allowed_connection_types: ['STANDARD'] };
    const token = await encodeUser(name ? `${name} (${agentId})` : agentId, user, this.agentsAccount, claims, { signer: this.agentsSigner });
    return { creds: new TextDecoder().decode(fmtCreds(token, user)), userKey: user.getPublicKey() };
  }

  /**
   * Returns once every server that answers the system account's ping holds
   * the account with the keys revoked and lists none of their connections
   * (each server closes them as it takes the update).
   */
  revoke(userKeys: string[]): Promise<void> {
    const done = this.revoking.then(() => this.revokeNow(userKeys));
    this.revoking = done.catch(() => undefined);
    return done;
  }

  private async revokeNow(userKeys: string[]): Promise<void> {
    if (userKeys.length === 0) return;
    const servers = await this.servers();
    for (let round = 0; round < REVOKE_ROUNDS; round += 1) {
      const current = decode<Account>(await this.accountJwt());
      const revocations = { ...(current.nats.revocations ?? {}) };
      const missing = userKeys.filter((key) => revocations[key] === undefined);
      if (missing.length === 0) return this.waitForDisconnects(userKeys, servers);
      for (const key of missing) revocations[key] = REVOKED_UNTIL;
      const { type: _type, version: _version, ...claims } = current.nats as Account & { type?: string; version?: number };
      const signed = await encodeAccount(current.name, this.agentsAccount, { ...claims, revocations }, { signer: this.operatorSigner });
      // Every server takes the update (a cluster's full resolvers each answer): each must have accepted it.
      const answered = new Set<string>();
      for await (const reply of await this.system.requestMany(`$SYS.REQ.ACCOUNT.${this.agentsAccount}.CLAIMS.UPDATE`, signed, { strategy: 'stall', stall: 200, maxWait: 5_000 })) {
        const body = JSON.parse(new TextDecoder().decode(reply.data)) as { server?: { id?: string }; data?: { code?: number }; error?: { description?: string } };
        if (body.error || body.data?.code !== 200) throw new Error(`a server refused the agents account's JWT: ${body.error?.description ?? JSON.stringify(body)}`);
        if (body.server?.id) answered.add(body.server.id);
      }
      const silent = [...servers].filter((server) => !answered.has(server));
      if (silent.length > 0) throw new Error(`${silent.length} server(s) did not confirm the agents account's update`);
      // The next round checks what the servers hold: the keys revoked, or pushed again.
    }
    throw new Error('the agents account kept changing while keys were revoked');
  }

  private async accountJwt(): Promise<string> {
    const reply = await this.system.request(`$SYS.REQ.ACCOUNT.${this.agentsAccount}.CLAIMS.LOOKUP`, '', { timeout: 5_000 });
    const text = new TextDecoder().decode(reply.data);
    if (!text.startsWith('ey')) throw new Error(`no JWT of the agents account: ${text.slice(0, 200)}`);
    return text;
  }

  /** The servers there are (each answers the system account's ping); none answering is a failure, not an empty cluster. */
  private async servers(): Promise<Set<string>> {
    const servers = new Set<string>();
    for await (const reply of await this.system.requestMany('$SYS.REQ.SERVER.PING', '', { strategy: 'stall', stall: 200, maxWait: SERVERS_WAIT_MS })) {
      const id = (JSON.parse(new TextDecoder().decode(reply.data)) as { server?: { id?: string } }).server?.id;
      if (id) servers.add(id);
    }
    if (servers.size === 0) throw new Error('no NATS server answered the system account');
    return servers;
  }

  /** Waits until every server lists no connection of the revoked users. */
  private async waitForDisconnects(userKeys: string[], servers: Set<string>): Promise<void> {
    const revoked = new Set(userKeys);
    const deadline = Date.now() + REVOKE_SETTLE_MS;
    for (;;) {
      const { answered, users } = await this.openConnections();
      if ([...servers].every((server) => answered.has(server)) && !users.some((user) => revoked.has(user))) return;
      if (Date.now() > deadline) throw new Error(`revoked users still connected, or servers not answering, after ${REVOKE_SETTLE_MS} ms`);
      await sleep(50);
    }
  }

  /** The users of the agents account's open connections, and the servers that answered. */
  private async openConnections(): Promise<{ answered: Set<string>; users: string[] }> {
    const replies = await this.system.requestMany(`$SYS.REQ.ACCOUNT.${this.agentsAccount}.CONNZ`, JSON.stringify({ auth: true, limit: 100_000 }), {
      maxWait: SERVERS_WAIT_MS,
      strategy: 'stall',
      stall: 200,
    });
    const answered = new Set<string>();
    const users: string[] = [];
    for await (const reply of replies) {
      const body = JSON.parse(new TextDecoder().decode(reply.data)) as { server?: { id?: string }; data?: { connections?: Array<{ authorized_user?: string }> } };
      if (body.server?.id) answered.add(body.server.id);
      for (const connection of body.data?.connections ?? []) if (connection.authorized_user) users.push(connection.authorized_user);
    }
    return { answered, users };
  }
}
