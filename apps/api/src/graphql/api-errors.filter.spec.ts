import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { HttpException, InternalServerErrorException, Logger, NotFoundException, type LoggerService } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { DependencyUnavailableError } from '@app/runtime';
import { ApiError } from './api.error.js';
import { ApiErrorsFilter, withCode } from './api-errors.filter.js';

/** What the filter logged: level, message, and the arguments after it. */
type Line = { level: string; message: unknown; rest: unknown[] };

describe('ApiErrorsFilter', () => {
  let lines: Line[];
  const record =
    (level: string) =>
    (message: unknown, ...rest: unknown[]) =>
      void lines.push({ level, message, rest });

  beforeEach(() => {
    lines = [];
    const logger: LoggerService = { log: record('log'), warn: record('warn'), error: record('error'), debug: record('debug'), verbose: record('verbose'), fatal: record('fatal') };
    Logger.overrideLogger(logger);
  });

  afterEach(() => Logger.overrideLogger(false));

  const graphqlHost = () => {
    const host = new ExecutionContextHost([{}, {}, {}, { parentType: { name: 'Mutation' }, fieldName: 'createWebSocketEndpoint' }]);
    host.setType('graphql');
    return host;
  };
  const filter = new ApiErrorsFilter();

  it.each([
    ['bad input', ApiError.badInput('name', 'must not be empty'), 'BAD_USER_INPUT'],
    ['a missing record', new ApiError('NOT_FOUND', 'no endpoint has this id'), 'NOT_FOUND'],
    ['a weak token', new ApiError('FORBIDDEN', 'a READ_ONLY token cannot run createWebSocketEndpoint'), 'FORBIDDEN'],
    ['no token', new ApiError('UNAUTHENTICATED', 'a valid token is required'), 'UNAUTHENTICATED'],
    ['a 4xx HttpException', new NotFoundException('gone'), 'HTTP_404'],
  ])('logs %s as one warning without a stack, and passes the error on', (_case, error, code) => {
    expect(() => filter.catch(error, graphqlHost())).toThrow(error);
    expect(lines).toEqual([{ level: 'warn', message: expect.stringMatching(new RegExp(`^Mutation.createWebSocketEndpoint: ${code}: `)), rest: [{ code }, 'ApiErrors'] }]);
  });

  it('logs an outage as one warning', () => {
    const error = new DependencyUnavailableError('PostgreSQL is not reachable');
    expect(() => filter.catch(error, graphqlHost())).toThrow(error);
    expect(lines).toEqual([{ level: 'warn', message: 'Mutation.createWebSocketEndpoint: UNAVAILABLE: PostgreSQL is not reachable', rest: [{ code: 'UNAVAILABLE' }, 'ApiErrors'] }]);
  });

  it('logs anything else as an error with its stack', () => {
    const error = new TypeError('cannot read properties of undefined');
    expect(() => filter.catch(error, graphqlHost())).toThrow(error);
    expect(lines).toEqual([{ level: 'error', message: 'Mutation.createWebSocketEndpoint failed: cannot read properties of undefined', rest: [error.stack, 'ApiErrors'] }]);
  });
});

describe('withCode', () => {
  it("gives a client error that Nest or Express made its status's name as a code, and leaves the api's own and server errors as they are", () => {
    expect(withCode(new NotFoundException('Cannot GET /event-service/get-image/')).getResponse()).toEqual({ code: 'NOT_FOUND', message: 'Cannot GET /event-service/get-image/' });
    expect(withCode(new HttpException('request entity too large', 413)).getResponse()).toEqual({ code: 'PAYLOAD_TOO_LARGE', message: 'request entity too large' });
    const own = new NotFoundException({ code: 'NOT_FOUND', message: 'no image has this id (or it expired)' });
    expect(withCode(own)).toBe(own);
    const server = new InternalServerErrorException();
    expect(withCode(server)).toBe(server);
  });
});
