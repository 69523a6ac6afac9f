import type { BlockList } from 'node:net';
import { applyDecorators } from '@nestjs/common';
import { Matches, Max, MaxLength, Min, MinLength, ValidateBy } from 'class-validator';
import { assertPublicTarget, customHeaderNameProblem, ForbiddenTargetError } from '@app/webhooks';
import { ApiError } from '../graphql/api.error.js';
import { Trimmed } from '../graphql/input-rules.js';

/** The HTTP methods a webhook is sent with (the GraphQL enum WebhookMethod); POST unless chosen. */
export const WebhookMethod = {
  POST: 'POST',
  PUT: 'PUT',
  PATCH: 'PATCH',
} as const;
export type WebhookMethod = (typeof WebhookMethod)[keyof typeof WebhookMethod];
const MAX_NAME_LENGTH = 200;

/** A name (of an endpoint, of a filter): trimmed, then 1 to 200 characters. */
export function IsName(): PropertyDecorator {
  return applyDecorators(
    Trimmed(),
    MinLength(1, { message: 'must not be empty' }),
    MaxLength(MAX_NAME_LENGTH, { message: `must be at most ${MAX_NAME_LENGTH} characters` }),
  );
}

/** What makes `value` no webhook URL (an absolute http(s) URL without credentials), or null when it is one. */
function webhookUrlProblem(value: unknown): string | null {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must use http or https';
  if (url.username || url.password) return 'must not contain credentials; use custom headers';
  return null;
}

/**
 * A webhook URL, trimmed: an absolute http(s) URL without credentials.
 * Parsed as WHATWG URL, as the dispatcher parses it to connect (validator's
 * isURL accepts and refuses other strings).
 */
export function IsWebhookUrl(): PropertyDecorator {
  return applyDecorators(
    Trimmed(),
    ValidateBy({
      name: 'isWebhookUrl',
      validator: {
        validate: (value: unknown) => webhookUrlProblem(value) === null,
        defaultMessage: (args) => webhookUrlProblem(args?.value) ?? 'must be a webhook URL',
      },
    }),
  );
}

/**
 * A webhook URL (valid by IsWebhookUrl) in its normal form, refused when its
 * host is or resolves to an internal address not `allowed`. Code, not a
 * rule: it resolves the host.
 */
export async function publicWebhookUrl(value: string, allowed: BlockList): Promise<string> {
  const url = new URL(value);
  try {
    await assertPublicTarget(url, allowed);
  } catch (error) {
    if (error instanceof ForbiddenTargetError) throw ApiError.badInput('url', error.message);
    // A host that does not resolve yet is accepted: every connection is checked again when it is opened.
  }
  return url.toString();
}

const MAX_HEADER_VALUE = 4_096;

/** A custom header's name: an HTTP token of 1 to 100 characters, none the dispatcher sets, nor a hop-by-hop or framing header. */
export function IsCustomHeaderName(): PropertyDecorator {
  return applyDecorators(
    ValidateBy(
      { name: 'isHeaderToken', validator: { validate: (value: unknown) => typeof value === 'string' && customHeaderNameProblem(value) !== 'not-a-token' } },
      { message: 'is not a valid header name' },
    ),
    ValidateBy(
      { name: 'isNotReservedHeader', validator: { validate: (value: unknown) => typeof value === 'string' && customHeaderNameProblem(value) !== 'reserved' } },
      { message: ({ value }) => `${String(value)} is set by the dispatcher or belongs to the connection` },
    ),
  );
}

/** A custom header's value: one line of at most 4096 characters. */
export function IsCustomHeaderValue(): PropertyDecorator {
  const message = `must be one line of at most ${MAX_HEADER_VALUE} characters`;
  return applyDecorators(Matches(/^[^\r\n]*$/, { message }), MaxLength(MAX_HEADER_VALUE, { message }));
}

/** Custom headers (valid by HeaderInput's rules) by lower-case name, as they are stored; of two with one name, the later wins. */
export function headerMap(headers: ReadonlyArray<{ name: string; value: string }>): Record<string, string> {
  return Object.fromEntries(headers.map(({ name, value }) => [name.toLowerCase(), value]));
}

/** The highest `maxRatePerSecond` accepted; 0 means no limit. */
export const MAX_RATE_PER_SECOND = 100_000;

/** An endpoint's delivery rate limit: deliveries per second, from 0 (no limit) to MAX_RATE_PER_SECOND. */
export function IsMaxRate(): PropertyDecorator {
  const message = `must be a whole number of deliveries per second from 0 (no limit) to ${MAX_RATE_PER_SECOND}`;
  return applyDecorators(Min(0, { message }), Max(MAX_RATE_PER_SECOND, { message }));
}
