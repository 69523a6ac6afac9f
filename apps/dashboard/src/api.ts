/** The dashboard's only way to the service: the GraphQL API integrators use, with the session cookie. */
export const GRAPHQL_PATH = '/event-service/graphql';
export const SESSION_PATH = '/event-service/session';

/** A GraphQL document with the shapes of its result and variables, checked against the schema by a test. */
export interface Operation<TData, TVariables> {
  readonly document: string;
  /** Never set: carries the types. */
  readonly types?: (variables: TVariables) => TData;
}

export function operation<TData, TVariables = Record<string, never>>(document: string): Operation<TData, TVariables> {
  return { document };
}

/**
 * An error the API answered with: its code, and the input field it concerns
 * when it names one (`extensions.field`, or the variable GraphQL's own
 * message quotes), so that a form shows it next to that field.
 */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly field: string | null,
  ) {
    super(message);
  }
}

type SignedOutListener = () => void;
const signedOutListeners = new Set<SignedOutListener>();

/** Called when the API no longer knows the session (expired, signed out elsewhere, token revoked). */
export function onSignedOut(listener: SignedOutListener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; field?: string };
}

function failureOf(error: GraphQLErrorBody): ApiFailure {
  const variable = /Variable "\$(\w+)"/.exec(error.message)?.[1] ?? null;
  return new ApiFailure(error.message, error.extensions?.code ?? 'ERROR', error.extensions?.field ?? variable);
}

export async function request<TData, TVariables>(op: Operation<TData, TVariables>, variables: TVariables): Promise<TData> {
  let response: Response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: op.document, variables }),
    });
  } catch {
    throw new ApiFailure('the service is not reachable; try again', 'UNAVAILABLE', null);
  }
  const body = (await response.json().catch(() => null)) as { data?: TData; errors?: GraphQLErrorBody[] } | null;
  if (response.status === 401) {
    for (const listener of signedOutListeners) listener();
  }
  if (body?.errors?.length) throw failureOf(body.errors[0]!);
  if (!body?.data) throw new ApiFailure(`the API answered ${response.status}`, 'UNAVAILABLE', null);
  return body.data;
}

export type Scope = 'ADMIN' | 'READ_ONLY';

/** What the signed-in token may do: its scope, and the endpoints a scoped READ_ONLY token reads (null: every one). */
export interface Session {
  scope: Scope;
  endpointIds: string[] | null;
}

export async function currentSession(): Promise<Session | null> {
  const response = await fetch(SESSION_PATH, { credentials: 'same-origin' });
  if (!response.ok) return null;
  return (await response.json()) as Session;
}

export async function signIn(token: string): Promise<Session> {
  const response = await fetch(SESSION_PATH, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const body = (await response.json().catch(() => ({}))) as Partial<Session> & { message?: string; field?: string; code?: string };
  if (!response.ok || !body.scope) throw new ApiFailure(body.message ?? `sign-in failed (${response.status})`, body.code ?? 'UNAUTHENTICATED', body.field ?? 'token');
  return { scope: body.scope, endpointIds: body.endpointIds ?? null };
}

export async function signOut(): Promise<void> {
  await fetch(SESSION_PATH, { method: 'DELETE', credentials: 'same-origin' });
}
