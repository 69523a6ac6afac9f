import { randomBytes } from 'node:crypto';

export interface ResolvedToken {
  token: string;
  /** True when no token was configured and one was generated for a development run. */
  generated: boolean;
}

/**
 * Production refuses to start without `API_TOKEN`; a development run gets a
 * random token so that the service is never open by accident.
 */
export function resolveApiToken(configured: string | undefined, nodeEnv: string): ResolvedToken {
  if (configured) {
    return { token: configured, generated: false };
  }
  if (nodeEnv === 'production') {
    throw new Error('API_TOKEN is not set: production refuses to start without an API token');
  }
  return { token: `dev-${randomBytes(18).toString('base64url')}`, generated: true };
}
