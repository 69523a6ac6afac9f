import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Principal } from '@app/domain';
import { TokenScope } from '@app/messaging';
import { sendGraphqlError } from './api.error.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** Who sent the request (its token or session), set by credentialFirstBodyParser before the body is read; absent without a valid one. */
    principal?: Principal;
  }
}

/** The longest `{ __typename }` probe taken without a token: longer text is refused before any pattern runs over it. */
export const MAX_PROBE_LENGTH = 100;
/** The probe's shape (each part matched one way only, so the pattern never backtracks much, and the text is short). */
const TYPENAME_PROBE = /^\s*(?:query(?:\s+[A-Za-z_]\w*)?\s*)?\{\s*__typename\s*\}\s*$/;

/** Whether an anonymous request's query is the one operation that may run without a token: a liveness probe of the endpoint. */
export function isTypenameProbe(query: unknown): boolean {
  return typeof query === 'string' && query.length <= MAX_PROBE_LENGTH && TYPENAME_PROBE.test(query);
}

/**
 * Nothing reaches the GraphQL server without a valid token — introspection,
 * validation (whose "did you mean" would describe the schema) and execution
 * alike; a bare `{ __typename }` excepted. The token comes from a header or
 * the dashboard's session cookie. Refused with 401 and the code
 * UNAUTHENTICATED, in GraphQL's error shape; an AGENT token (ingest only)
 * with 403 and FORBIDDEN. What the token may do then is TokenGuard's.
 */
@Injectable()
export class GraphqlAuthMiddleware implements NestMiddleware {
  use(request: Request, response: Response, next: NextFunction): void {
    // Resolved once, before the body was read (credentialFirstBodyParser).
    const { principal } = request;
    if (principal?.scope === TokenScope.AGENT) return sendGraphqlError(response, 403, 'FORBIDDEN', 'an AGENT token may only post events');
    if (principal) return next();
    const query = request.method === 'GET' ? request.query['query'] : (request.body as { query?: unknown } | undefined)?.query;
    if (isTypenameProbe(query)) return next();
    sendGraphqlError(response, 401, 'UNAUTHENTICATED', 'a valid token is required (header Token or Authorization: Bearer)');
  }
}
