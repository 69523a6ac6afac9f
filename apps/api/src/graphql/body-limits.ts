import express, { type RequestHandler } from 'express';
import type { AccessTokens } from '@app/messaging';
import type { DashboardSessions } from '../dashboard/dashboard-sessions.js';
import { sendGraphqlError } from './api.error.js';

/**
 * Bytes of a body read without a valid credential: enough for the
 * `{ __typename }` probe and the dashboard's sign-in (`{"token": "…"}`),
 * nothing to make an anonymous caller's refusal cost more than a constant.
 */
export const ANONYMOUS_BODY_BYTES = 1_024;
/** Bytes of a JSON body read with a valid credential (Nest's own default). */
export const BODY_BYTES = 100 * 1_024;

/**
 * The api's JSON body parser, the credential checked first (a header or
 * the session cookie, both read without the body): a caller without one has
 * at most ANONYMOUS_BODY_BYTES read, a caller with one up to BODY_BYTES; a
 * larger Content-Length is refused before any byte of the body (413), and
 * so is a body of undeclared length (411). The principal it resolves is the
 * request's (`request.principal`); what it may do is checked after
 * (GraphqlAuthMiddleware, TokenGuard).
 */
export function credentialFirstBodyParser(tokens: AccessTokens, sessions: DashboardSessions): RequestHandler {
  const full = express.json({ limit: BODY_BYTES });
  const anonymous = express.json({ limit: ANONYMOUS_BODY_BYTES });
  return (request, response, next) => {
    const principal = tokens.resolve(sessions.tokenOf(request));
    if (principal) request.principal = principal;
    const limit = principal ? BODY_BYTES : ANONYMOUS_BODY_BYTES;
    const caller = principal ? 'a request' : 'an anonymous request';
    const length = request.headers['content-length'];
    // A body whose length is not declared cannot be checked before it is read.
    if (length === undefined && request.headers['transfer-encoding'] !== undefined) return refuse(response, 411, `${caller} must declare its Content-Length`);
    if (Number(length) > limit) return refuse(response, 413, `${caller}'s body may have at most ${limit} bytes`);
    return (principal ? full : anonymous)(request, response, next);
  };
}

/**
 * Refuses before the body is parsed (the handler reads none of it), and
 * closes the connection once the answer is out rather than reading (even to
 * discard) the rest: what had already arrived goes with the connection.
 */
function refuse(response: Parameters<RequestHandler>[1], status: 411 | 413, message: string): void {
  response.on('finish', () => response.socket?.destroy());
  response.set('connection', 'close');
  sendGraphqlError(response, status, status === 413 ? 'PAYLOAD_TOO_LARGE' : 'LENGTH_REQUIRED', message);
}
