import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encodeAccount, encodeActivation, encodeOperator, encodeUser, fmtCreds, type Account, type Import, type Export, type User } from '@nats-io/jwt';
import { createAccount, createOperator, createUser, fromSeed, type KeyPair } from '@nats-io/nkeys';
import { ISSUER_FILES, issuerSystemPermissions, JETSTREAM_ACCOUNT_LIMITS, OPEN_ACCOUNT_LIMITS, type OperatorAccounts } from '@app/messaging';
import { layoutAccounts, type LayoutAccount } from './nats-conf.js';
import { projectRoot } from './local-stack.js';

/**
 * The NATS operator-mode set-up (`npm run nats:operator`, scripts/nats-operator.ts)
 * (docs/operations.md, "Agents' NATS credentials"), made from the permission
 * layout (deploy/nats/event-service.conf) so that both grant the same: an
 * operator, a system account, an account JWT for each of the layout's
 * accounts (EVENT_SERVICE, AGENTS, PLATFORM: the same exports, imports and
 * limits), and a user JWT with the same grants for each of its users but the
 * example agent (agents' credentials are issued through the api). Writes:
 *
 *   <out>/operator.conf          include it in nats-server.conf: the operator,
 *                                the system account, the full resolver (its
 *                                JWT store at --resolver-dir) and every account
 *                                preloaded (a newer JWT pushed since wins)
 *   <out>/creds/<user>.creds     each app's, ops', the platform publisher's
 *                                and the credentials issuer's NATS user
 *   <out>/issuer/                what the credentials issuer alone holds
 *                                (ISSUER_KEYS_DIR): the operator's and the
 *                                agents account's signing keys, a system user
 *   <out>/keys/                  the operator's and the accounts' identity
 *                                keys: offline, to replace signing keys
 *
 * Keys are never overwritten: a second run with the same --out reuses them
 * (and writes the JWTs and creds again), so adding a user to the layout
 * needs no new operator. `--layout` reads another layout file.
 */
/** The longest protocol line the server takes: above the largest user JWT (the dispatcher's, about 5.5 KB). */
const MAX_CONTROL_LINE = 65_536;

/** The user of the service's account that serves the api's requests for agents' credentials. */
export const ISSUER_USER = 'credentials-issuer';

interface Keys {
  load(name: string, create: () => KeyPair): KeyPair;
}

function keyStore(dir: string): Keys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return {
    load(name, create) {
      const file = join(dir, `${name}.nk`);
      if (existsSync(file)) return fromSeed(new TextEncoder().encode(readFileSync(file, 'utf8').trim()));
      const pair = create();
      writeFileSync(file, `${new TextDecoder().decode(pair.getSeed())}\n`, { mode: 0o600 });
      return pair;
    },
  };
}

const writeSecret = (file: string, text: string | Uint8Array) => writeFileSync(file, text, { mode: 0o600 });

export interface OperatorSetup {
  /** The server configuration to include. */
  conf: string;
  accounts: OperatorAccounts;
  /** The creds file of each user, by name. */
  creds: Map<string, string>;
  /** The directory the issuer reads (ISSUER_KEYS_DIR). */
  issuerDir: string;
}

/** Makes (or remakes, with the keys already there) the operator-mode set-up in `out`. */
export async function makeOperatorSetup(out: string, { layout = join(projectRoot(), 'deploy', 'nats', 'event-service.conf'), resolverDir = join(out, 'jwt') } = {}): Promise<OperatorSetup> {
  const accountsOfLayout = layoutAccounts(readFileSync(layout, 'utf8'));
  const keys = keyStore(join(out, 'keys'));
  const issuerDir = join(out, 'issuer');
  const issuerKeys = keyStore(issuerDir);
  const credsDir = join(out, 'creds');
  mkdirSync(credsDir, { recursive: true, mode: 0o700 });

  const operator = keys.load('operator', createOperator);
  const operatorSigner = issuerKeys.load(ISSUER_FILES.operatorSigningKey.replace(/\.nk$/, ''), createOperator);
  const system = keys.load('SYS', createAccount);
  const systemSigner = keys.load('SYS-signing', createAccount);
  const identities = new Map(accountsOfLayout.map((account) => [account.name, keys.load(account.name, createAccount)]));
  // The agents account's signing key is the issuer's; the others' stay with the set-up (users are made here).
  const signers = new Map(
    accountsOfLayout.map((account) => [
      account.name,
      account.name === 'AGENTS' ? issuerKeys.load(ISSUER_FILES.agentsSigningKey.replace(/\.nk$/, ''), createAccount) : keys.load(`${account.name}-signing`, createAccount),
    ]),
  );
  const publicKey = (name: string) => {
    const pair = identities.get(name);
    if (!pair) throw new Error(`the layout names account ${name}, which it does not define`);
    return pair.getPublicKey();
  };

  const accountJwts = new Map<string, string>();
  const jwtsDir = join(out, 'accounts');
  mkdirSync(jwtsDir, { recursive: true });
  const systemClaims: Partial<Account> = { limits: OPEN_ACCOUNT_LIMITS, signing_keys: [systemSigner.getPublicKey()] };
  accountJwts.set(system.getPublicKey(), await stableJwt(join(jwtsDir, 'SYS.jwt'), systemClaims, () => encodeAccount('SYS', system, systemClaims, { signer: operatorSigner })));
  for (const account of accountsOfLayout) {
    const identity = identities.get(account.name)!;
    // An export to named accounts only: each importer carries an activation the exporter signed for it.
    const exports: Export[] = account.exports.map((entry) => ({ name: entry.service, subject: entry.service, type: 'service', token_req: true }));
    const imports: Import[] = await Promise.all(
      account.imports.map(async (entry) => ({
        name: entry.subject,
        subject: entry.subject,
        account: publicKey(entry.account),
        type: 'service',
        token: await encodeActivation(entry.subject, identity, identities.get(entry.account)!, 'service', { subject: entry.subject }),
      })),
    );
    const claims: Partial<Account> = {
      limits: {
        ...OPEN_ACCOUNT_LIMITS,
        ...(account.jetstream ? JETSTREAM_ACCOUNT_LIMITS : {}),
        ...(account.limits.maxConnections !== undefined ? { conn: account.limits.maxConnections } : {}),
        ...(account.limits.maxSubscriptions !== undefined ? { subs: account.limits.maxSubscriptions } : {}),
        ...(account.limits.maxPayload !== undefined ? { payload: account.limits.maxPayload } : {}),
      },
      signing_keys: [signers.get(account.name)!.getPublicKey()],
      ...(exports.length ? { exports } : {}),
      ...(imports.length ? { imports } : {}),
    };
    accountJwts.set(identity.getPublicKey(), await stableJwt(join(jwtsDir, `${account.name}.jwt`), claims, () => encodeAccount(account.name, identity, claims, { signer: operatorSigner })));
  }
  const operatorJwt = await encodeOperator('event-service', operator, { signing_keys: [operatorSigner.getPublicKey()], system_account: system.getPublicKey() });

  const creds = new Map<string, string>();
  const makeUser = async (file: string, account: KeyPair, signer: KeyPair, permissions: Partial<User>) => {
    const user = createUser();
    const token = await encodeUser(file, user, account, permissions, { signer });
    const text = new TextDecoder().decode(fmtCreds(token, user));
    creds.set(file, text);
    return text;
  };
  for (const account of accountsOfLayout.filter((entry) => entry.name !== 'AGENTS')) {
    for (const user of account.users) {
      const text = await makeUser(user.user, identities.get(account.name)!, signers.get(account.name)!, permissionsOf(user));
      writeSecret(join(credsDir, `${user.user}.creds`), text);
    }
  }
  const service = serviceAccountOf(accountsOfLayout);
  const prefix = servicePrefix(accountsOfLayout);
  // The issuer's own user: the api's requests for credentials, answered (a reply to a request it got), nothing else.
  writeSecret(
    join(credsDir, `${ISSUER_USER}.creds`),
    await makeUser(ISSUER_USER, identities.get(service.name)!, signers.get(service.name)!, {
      pub: { allow: [], deny: [] },
      sub: { allow: [`${prefix}.issuer.agents.*`], deny: [] },
      resp: { max: 1, ttl: 0 },
    }),
  );
  // The issuer's system user: the agents account's JWT pushed and read back, its connections listed; nothing else.
  writeSecret(
    join(issuerDir, ISSUER_FILES.systemCreds),
    await makeUser('issuer-system', system, systemSigner, issuerSystemPermissions(publicKey('AGENTS'))),
  );

  const accounts: OperatorAccounts = {
    operator: operator.getPublicKey(),
    systemAccount: system.getPublicKey(),
    accounts: Object.fromEntries(accountsOfLayout.map((account) => [account.name, publicKey(account.name)])),
  };
  const accountsText = `${JSON.stringify(accounts, null, 2)}\n`;
  writeFileSync(join(out, ISSUER_FILES.accounts), accountsText);
  writeFileSync(join(issuerDir, ISSUER_FILES.accounts), accountsText);

  const conf = [
    '# NATS operator mode for the event service: made by scripts/nats-operator.ts from the permission layout',
    '# (deploy/nats/event-service.conf); include it instead of that file. Agents are issued through the api.',
    `operator: "${operatorJwt}"`,
    `system_account: ${system.getPublicKey()}`,
    '# A client sends its user JWT in its CONNECT line: the apps\' grants make theirs up to about 6 KB (4 KB by default).',
    `max_control_line: ${MAX_CONTROL_LINE}`,
    '# The full resolver keeps every account JWT pushed to it (the credentials issuer pushes the agents',
    "# account's, with its revocations); a preloaded JWT never replaces a newer one it holds.",
    `resolver { type: full, dir: "${resolverDir}", allow_delete: false, interval: "2m", timeout: "5s" }`,
    'resolver_preload {',
    ...[...accountJwts].map(([key, token]) => `  ${key}: "${token}"`),
    '}',
    '',
  ].join('\n');
  writeFileSync(join(out, 'operator.conf'), conf);
  return { conf, accounts, creds, issuerDir };
}

/**
 * An account's JWT as a previous run signed it when its claims are the same
 * (activation tokens aside, which are signed anew each time), else a new one.
 * The server's resolver keeps a pushed JWT newer than its preload: the agents
 * account's, with the revocations the issuer added, must stay newer than
 * what a second run of the set-up preloads.
 */
async function stableJwt(file: string, claims: Partial<Account>, sign: () => Promise<string>): Promise<string> {
  const comparable = (nats: Partial<Account>) => {
    const { type: _type, version: _version, imports, revocations: _revocations, ...rest } = nats as Partial<Account> & { type?: string; version?: number };
    return JSON.stringify({ ...rest, imports: (imports ?? []).map(({ token: _token, ...entry }) => entry) });
  };
  if (existsSync(file)) {
    const previous = readFileSync(file, 'utf8').trim();
    if (comparable(decode<Account>(previous).nats) === comparable(claims)) return previous;
  }
  const signed = await sign();
  writeFileSync(file, `${signed}\n`);
  return signed;
}

function permissionsOf(user: LayoutAccount['users'][number]): Partial<User> {
  return {
    ...(user.publish ? { pub: { allow: user.publish.allow, deny: user.publish.deny } } : {}),
    ...(user.subscribe ? { sub: { allow: user.subscribe.allow, deny: user.subscribe.deny } } : {}),
  };
}

/** The account holding JetStream: the service's. */
function serviceAccountOf(accounts: LayoutAccount[]): LayoutAccount {
  const service = accounts.find((account) => account.jetstream);
  if (!service) throw new Error('the layout has no account with JetStream (the service account)');
  return service;
}

/** The subject prefix the layout is written for, from the agents' export (`<p>.agents.*.events`). */
function servicePrefix(accounts: LayoutAccount[]): string {
  const agents = serviceAccountOf(accounts).exports.find((entry) => /^[a-z][a-z0-9_]*\.agents\.\*\.events$/.test(entry.service));
  if (!agents) throw new Error('the layout exports no <prefix>.agents.*.events service');
  return agents.service.split('.')[0]!;
}
