import { STATUS_CODES } from 'node:http';
import { Catch, HttpException, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { GqlArgumentsHost, type GqlContextType, type GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { isTransientFailure } from '@app/runtime';
import type { ApiErrorCode } from './api.error.js';

/** The codes of a client's mistake: answered to the client, not a fault of the api. */
const CLIENT_CODES: ReadonlySet<string> = new Set<ApiErrorCode>(['BAD_USER_INPUT', 'NOT_FOUND', 'UNAUTHENTICATED', 'FORBIDDEN']);

/** The code of a client's error (an ApiError of a client code, a 4xx HttpException); null for anything else. */
export function clientErrorCode(error: unknown): string | null {
  if (error instanceof GraphQLError) {
    const code = error.extensions['code'];
    return typeof code === 'string' && CLIENT_CODES.has(code) ? code : null;
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    return status >= 400 && status < 500 ? `HTTP_${status}` : null;
  }
  return null;
}

/** A client's HTTP error that Nest or Express made (no such route, a body that is not JSON), with its status's name as its code, as the api's own refusals have one. */
export function withCode(exception: HttpException): HttpException {
  const status = exception.getStatus();
  const body = exception.getResponse();
  if (status >= 500 || (typeof body === 'object' && 'code' in body)) return exception;
  const code = (STATUS_CODES[status] ?? `HTTP ${status}`).toUpperCase().replace(/\W+/g, '_');
  return new HttpException({ code, message: exception.message }, status, { cause: exception });
}

/**
 * How the api logs what its resolvers throw, once, here: a client's error
 * (bad input, not found, no or a weak token) is a warning on one line
 * without a stack, and so is a dependency outage (answered UNAVAILABLE);
 * anything else is an error with its stack. Nest's default logged them all
 * as errors with stacks. The error then goes on to GraphQL unchanged (the
 * answer's formatting is formatError's); HTTP routes keep Nest's handling,
 * a client's error given a code (withCode).
 */
@Catch()
export class ApiErrorsFilter extends BaseExceptionFilter implements GqlExceptionFilter {
  private readonly logger = new Logger('ApiErrors');

  override catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<GqlContextType>() !== 'graphql') return super.catch(exception instanceof HttpException ? withCode(exception) : exception, host);
    const info = GqlArgumentsHost.create(host).getInfo<GraphQLResolveInfo | undefined>();
    const where = info ? `${info.parentType.name}.${info.fieldName}` : 'graphql';
    const message = exception instanceof Error ? exception.message : String(exception);
    const code = clientErrorCode(exception);
    if (code) this.logger.warn(`${where}: ${code}: ${message}`, { code });
    else if (isTransientFailure(exception)) this.logger.warn(`${where}: UNAVAILABLE: ${message}`, { code: 'UNAVAILABLE' });
    else this.logger.error(`${where} failed: ${message}`, exception instanceof Error ? exception.stack : undefined);
    throw exception;
  }
}
