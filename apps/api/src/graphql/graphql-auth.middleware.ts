import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { TokenSet } from '@app/runtime';
import { API_TOKENS } from '../api.tokens.js';

/** The one operation that may run without a token: a liveness probe of the endpoint. */
const TYPENAME_PROBE = /^\s*(query\s*\w*\s*)?\{\s*__typename\s*\}\s*$/;

/**
 * Nothing reaches the GraphQL server without a valid token — introspection,
 * validation (whose "did you mean" would describe the schema) and execution
 * alike; a bare `{ __typename }` excepted. Refused with 401 and the code
 * UNAUTHENTICATED, in GraphQL's error shape.
 */
@Injectable()
export class GraphqlAuthMiddleware implements NestMiddleware {
  constructor(@Inject(API_TOKENS) private readonly tokens: TokenSet) {}

  use(request: Request, response: Response, next: NextFunction): void {
    if (this.tokens.accepts(request.headers)) return next();
    const query = request.method === 'GET' ? request.query['query'] : (request.body as { query?: unknown } | undefined)?.query;
    if (typeof query === 'string' && TYPENAME_PROBE.test(query)) return next();
    response.status(401).json({
      errors: [{ message: 'a valid token is required (header Token or Authorization: Bearer)', extensions: { code: 'UNAUTHENTICATED' } }],
    });
  }
}
