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
