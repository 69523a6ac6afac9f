/** An HTTP token (RFC 9110) of 1 to 100 characters: what a custom header's name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$/;

/**
 * Header names a webhook's custom headers may not use: the ones the
 * dispatcher sets itself (the signature, the body's type and length, the
 * user agent) and the ones that belong to the connection or the message's
 * framing (hop-by-hop and framing headers), which a receiver or a proxy
 * would act on rather than read.
 */
const RESERVED = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'host',
  'user-agent',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'http2-settings',
]);

/** Why `name` may not be a custom header's name, or null when it may. */
export function customHeaderNameProblem(name: string): 'not-a-token' | 'reserved' | null {
  if (!HEADER_NAME.test(name)) return 'not-a-token';
  const lower = name.toLowerCase();
  return lower.startsWith('webhook-') || RESERVED.has(lower) ? 'reserved' : null;
}
