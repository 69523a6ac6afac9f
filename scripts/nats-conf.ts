/**
 * A reader of nats-server's configuration format, as far as the permission
 * layout (deploy/nats/event-service.conf) uses it: maps (`key { … }`,
 * `key: { … }`, `key = …`), arrays, quoted strings, bare words and numbers,
 * `#` and `//` comments, entries separated by new lines or commas. The
 * operator set-up (scripts/nats-operator.ts) reads the layout with it, so that
 * the static layout and the operator-mode one grant the same subjects.
 */
export type ConfValue = string | number | boolean | ConfValue[] | ConfMap;
export interface ConfMap {
  [key: string]: ConfValue;
}

type Token = { kind: 'punct'; value: string } | { kind: 'string' | 'word'; value: string };

const PUNCTUATION = new Set(['{', '}', '[', ']', ':', '=', ',', '\n']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at]!;
    if (char === '#' || text.startsWith('//', at)) {
      while (at < text.length && text[at] !== '\n') at += 1;
    } else if (PUNCTUATION.has(char)) {
      tokens.push({ kind: 'punct', value: char });
      at += 1;
    } else if (/\s/.test(char)) {
      at += 1;
    } else if (char === '"' || char === "'") {
      const end = text.indexOf(char, at + 1);
      if (end < 0) throw new Error(`unterminated string at offset ${at}`);
      tokens.push({ kind: 'string', value: text.slice(at + 1, end) });
      at = end + 1;
    } else {
      let end = at;
      while (end < text.length && !/[\s{}[\]:=,#"']/.test(text[end]!)) end += 1;
      tokens.push({ kind: 'word', value: text.slice(at, end) });
      at = end;
    }
  }
  return tokens;
}

/** Parses the text of a nats-server configuration file (without `include`s) into plain values. */
export function parseNatsConf(text: string): ConfMap {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const isPunct = (value: string) => peek()?.kind === 'punct' && peek()!.value === value;
  const skipSeparators = () => {
    while (isPunct('\n') || isPunct(',')) at += 1;
  };

  const value = (): ConfValue => {
    skipSeparators();
    const token = tokens[at++];
    if (!token) throw new Error('a value is missing at the end');
    if (token.kind === 'punct' && token.value === '{') return map('}');
    if (token.kind === 'punct' && token.value === '[') return array();
    if (token.kind === 'string') return token.value;
    if (token.kind === 'word') {
      if (/^-?\d+$/.test(token.value)) return Number(token.value);
      if (token.value === 'true' || token.value === 'false') return token.value === 'true';
      return token.value;
    }
    throw new Error(`unexpected "${token.value}"`);
  };

  const array = (): ConfValue[] => {
    const items: ConfValue[] = [];
    for (;;) {
      skipSeparators();
      if (isPunct(']')) {
        at += 1;
        return items;
      }
      items.push(value());
    }
  };

  const map = (close: '}' | null): ConfMap => {
    const entries: ConfMap = {};
    for (;;) {
      skipSeparators();
      if (close === null && at >= tokens.length) return entries;
      if (close !== null && isPunct(close)) {
        at += 1;
        return entries;
      }
      const key = tokens[at++];
      if (!key || key.kind === 'punct') throw new Error(`a key was expected, found "${key?.value ?? 'the end'}"`);
      if (isPunct(':') || isPunct('=')) at += 1;
      entries[key.value] = value();
    }
  };

  return map(null);
}

/** A user of the layout, with the grants it has (none given: the whole account). */
export interface LayoutUser {
  user: string;
  publish: { allow: string[]; deny: string[] } | null;
  subscribe: { allow: string[]; deny: string[] } | null;
}

/** An account of the layout: its users, what it exports (services, to the accounts named) and imports, and its limits. */
export interface LayoutAccount {
  name: string;
  jetstream: boolean;
  users: LayoutUser[];
  exports: Array<{ service: string; accounts: string[] }>;
  imports: Array<{ account: string; subject: string }>;
  limits: { maxConnections?: number; maxSubscriptions?: number; maxPayload?: number };
}

const strings = (value: ConfValue | undefined): string[] => (Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)]);

function grants(value: ConfValue | undefined): { allow: string[]; deny: string[] } | null {
  if (value === undefined) return null;
  if (Array.isArray(value) || typeof value !== 'object') return { allow: strings(value), deny: [] };
  return { allow: strings(value.allow), deny: strings(value.deny) };
}

/** The accounts of a permission layout file (its `accounts` block). */
export function layoutAccounts(text: string): LayoutAccount[] {
  const accounts = parseNatsConf(text).accounts;
  if (!accounts || typeof accounts !== 'object' || Array.isArray(accounts)) throw new Error('the layout has no accounts block');
  return Object.entries(accounts).map(([name, body]) => {
    const account = body as ConfMap;
    const limits = (account.limits ?? {}) as ConfMap;
    return {
      name,
      jetstream: account.jetstream === 'enabled' || account.jetstream === true,
      users: ((account.users ?? []) as ConfMap[]).map((user) => {
        const permissions = (user.permissions ?? {}) as ConfMap;
        return { user: String(user.user), publish: grants(permissions.publish), subscribe: grants(permissions.subscribe) };
      }),
      exports: ((account.exports ?? []) as ConfMap[]).filter((entry) => entry.service !== undefined).map((entry) => ({ service: String(entry.service), accounts: strings(entry.accounts) })),
      imports: ((account.imports ?? []) as ConfMap[])
        .map((entry) => entry.service as ConfMap | undefined)
        .filter((service): service is ConfMap => service !== undefined)
        .map((service) => ({ account: String(service.account), subject: String(service.subject) })),
      limits: {
        ...(limits.max_connections !== undefined ? { maxConnections: Number(limits.max_connections) } : {}),
        ...(limits.max_subscriptions !== undefined ? { maxSubscriptions: Number(limits.max_subscriptions) } : {}),
        ...(limits.max_payload !== undefined ? { maxPayload: Number(limits.max_payload) } : {}),
      },
    };
  });
}
