import type { BlockList } from 'node:net';
import { assertPublicTarget, ForbiddenTargetError } from '@app/webhooks';
import { ApiError } from '../graphql/api.error.js';

/** The HTTP methods a webhook is sent with (the GraphQL enum WebhookMethod); POST unless chosen. */
export const WebhookMethod = {
  POST: 'POST',
  PUT: 'PUT',
  PATCH: 'PATCH',
} as const;
export type WebhookMethod = (typeof WebhookMethod)[keyof typeof WebhookMethod];
const MAX_NAME_LENGTH = 200;

/** A trimmed, non-empty endpoint name. */
export function parseName(value: string, field = 'name'): string {
  const name = value.trim();
  if (name.length === 0) throw ApiError.badInput(field, 'must not be empty');
  if (name.length > MAX_NAME_LENGTH) throw ApiError.badInput(field, `must be at most ${MAX_NAME_LENGTH} characters`);
  return name;
}

/** An absolute http(s) URL. */
export function parseWebhookUrl(value: string, field = 'url'): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw ApiError.badInput(field, 'must be an absolute http or https URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw ApiError.badInput(field, 'must use http or https');
  if (url.username || url.password) throw ApiError.badInput(field, 'must not contain credentials; use custom headers');
  return url.toString();
}

/** A valid http(s) URL whose host resolves to no internal address (unless `allowed`). */
export async function parsePublicWebhookUrl(value: string, allowed: BlockList): Promise<string> {
  const url = parseWebhookUrl(value);
  try {
    await assertPublicTarget(new URL(url), allowed);
  } catch (error) {
    if (error instanceof ForbiddenTargetError) throw ApiError.badInput('url', error.message);
    // A host that does not resolve yet is accepted: every connection is checked again when it is opened.
  }
  return url;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;
// Headers the dispatcher sets itself, or that HTTP owns.
const RESERVED_HEADERS = /^(webhook-.*|content-type|content-length|host|connection|transfer-encoding|user-agent)$/i;

/** Custom headers of a webhook (for the receiver's own auth), by name. */
export function parseHeaders(headers: ReadonlyArray<{ name: string; value: string }>): Record<string, string> {
  const parsed: Record<string, string> = {};
  headers.forEach(({ name, value }, index) => {
    if (!HEADER_NAME.test(name)) throw ApiError.badInput(`headers.${index}.name`, 'is not a valid header name');
    if (RESERVED_HEADERS.test(name)) throw ApiError.badInput(`headers.${index}.name`, `${name} is set by the dispatcher`);
    if (/[\r\n]/.test(value) || value.length > 4_096) throw ApiError.badInput(`headers.${index}.value`, 'must be one line of at most 4096 characters');
    parsed[name.toLowerCase()] = value;
  });
  return parsed;
}

/** The highest `maxRatePerSecond` accepted; 0 means no limit. */
export const MAX_RATE_PER_SECOND = 100_000;

/** An endpoint's delivery rate limit (deliveries per second; 0: none). */
export function parseMaxRate(value: number, field = 'maxRatePerSecond'): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_RATE_PER_SECOND) {
    throw ApiError.badInput(field, `must be a whole number of deliveries per second from 0 (no limit) to ${MAX_RATE_PER_SECOND}`);
  }
  return value;
}
