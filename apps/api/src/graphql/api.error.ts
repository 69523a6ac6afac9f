import type { Response } from 'express';
import { GraphQLError } from 'graphql';

export type ApiErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'UNAVAILABLE';

/** A GraphQL error with a stable code and, for bad input, the field at fault. */
export class ApiError extends GraphQLError {
  constructor(code: ApiErrorCode, message: string, field?: string) {
    super(message, { extensions: { code, ...(field ? { field } : {}) } });
  }

  static badInput(field: string, message: string): ApiError {
    return new ApiError('BAD_USER_INPUT', `${field}: ${message}`, field);
  }
}

/** An answer in GraphQL's error shape, sent before the GraphQL server runs (an HTTP edge refusing a request). */
export function sendGraphqlError(response: Response, status: number, code: string, message: string): void {
  response.status(status).json({ errors: [{ message, extensions: { code } }] });
}
