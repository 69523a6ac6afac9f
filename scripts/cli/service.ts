import { InvalidArgumentError } from 'commander';
import { parseDuration } from '@app/config';
/** Where the service answers, and the token the CLI sends: from its options, else the environment. */
export interface ServiceOptions {
  url: string;
  ingestUrl?: string;
  websocketUrl?: string;
  token?: string;
}

/** What the CLI says when it stops: one line, and exit code 1. */
export class CliError extends Error {}

export interface GraphQLFailure {
  message: string;
  extensions?: { code?: string; field?: string };
}

/** The service's URLs, resolved: the public origin (as `npm start` and the Ingress serve it) unless one is given apart. */
export function urlsOf(options: ServiceOptions): { api: string; ingest: string; websocket: string } {
  const api = options.url.replace(/\/+$/, '');
  const websocket = (options.websocketUrl ?? api).replace(/\/+$/, '').replace(/^http/, 'ws');
  return { api, ingest: (options.ingestUrl ?? api).replace(/\/+$/, ''), websocket };
}

/** The token given (`--token`, or EVENT_SERVICE_TOKEN through the option), else the API_TOKEN the service runs with. */
export function tokenOf(options: ServiceOptions): string {
  const token = options.token ?? process.env.API_TOKEN;
  if (!token) throw new CliError('a token is needed: --token, or EVENT_SERVICE_TOKEN (the API_TOKEN npm start runs with, or a named token)');
  return token;
}

/** One GraphQL operation with the CLI's token; an error answer or an unreachable service ends the command with one line. */
export async function graphql<T>(options: ServiceOptions, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const { api } = urlsOf(options);
  const response = await fetch(`${api}/event-service/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenOf(options)}` },
    body: JSON.stringify({ query, variables }),
  }).catch((error: Error) => {
    throw new CliError(`cannot reach ${api} (${(error.cause as Error | undefined)?.message ?? error.message}): is the service running? (npm start, or --url)`);
  });
  const answer = (await response.json().catch(() => null)) as { data?: T; errors?: GraphQLFailure[] } | null;
  const failure = answer?.errors?.[0];
  if (failure) {
    const field = failure.extensions?.field ? ` (${failure.extensions.field})` : '';
    throw new CliError(`${failure.extensions?.code ?? 'ERROR'}: ${failure.message}${field}`);
  }
  if (!response.ok || !answer?.data) throw new CliError(`the API answered ${response.status}`);
  return answer.data;
}

/** Rows as aligned columns, with a header line. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `--since`/`--until`: an instant (2026-01-31T10:00:00Z) or how long ago (30m, 2h, 7d). */
export function parseInstant(name: string): (text: string) => Date {
  return (text: string) => {
    if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(text.trim())) return new Date(Date.now() - parseDuration(text));
    const instant = new Date(text);
    if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(instant.getTime())) throw new InvalidArgumentError(`${name} must be a date-time such as 2026-01-31T10:00:00Z, or how long ago such as 2h or 7d`);
    return instant;
  };
}

/** A repeatable option's values, also given comma-separated. */
export const collect = (value: string, previous: string[]) => [...previous, ...value.split(',').filter((item) => item.length > 0)];
