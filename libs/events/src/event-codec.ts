import { agentEventSchema, type AgentEvent } from './event.schema.js';
import { MAX_NESTING, shapeProblemOf } from './duplicate-keys.js';
import { idKey } from './id-key.js';
import { firstIssue, schemaMessages, uuidSchema } from './schema-messages.js';

/** Why an event was refused, with the JSON path of the field at fault. */
export interface EventRejection {
  code: 'MALFORMED_JSON' | 'DUPLICATE_KEY' | 'INVALID_EVENT' | 'PAYLOAD_TOO_LARGE' | 'FORBIDDEN' | 'CAMERA_OF_ANOTHER_AGENT' | 'TOO_MANY_CAMERAS';
  field: string | null;
  message: string;
}

export type DecodeResult = { ok: true; event: AgentEvent } | { ok: false; rejection: EventRejection };

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes and validates one agent event; never throws on bad input. */
export function decodeEvent(bytes: Uint8Array, maxBytes: number): DecodeResult {
  if (bytes.byteLength > maxBytes) {
    return reject('PAYLOAD_TOO_LARGE', null, `event is ${bytes.byteLength} bytes; the limit is ${maxBytes}`);
  }
  let value: unknown;
  let text: string;
  try {
    text = decoder.decode(bytes);
    value = JSON.parse(text);
  } catch (error) {
    return reject('MALFORMED_JSON', null, `body is not valid UTF-8 JSON: ${(error as Error).message}`);
  }
  const problem = shapeProblemOf(text);
  if (problem?.kind === 'duplicate-key') return reject('DUPLICATE_KEY', problem.path, `${problem.path}: this key appears twice in its object (parsers differ on which one counts)`);
  if (problem?.kind === 'too-deep') return reject('INVALID_EVENT', problem.path, `${problem.path}: nests objects and arrays more than ${MAX_NESTING} deep`);
  return validateEvent(value);
}

const eventIdSchema = uuidSchema();

/**
 * The key (idKey) of the `event.id` in raw event JSON, whether or not the
 * rest of the event is valid; undefined unless it is a UUID. For log context
 * only: the value goes into log lines, so nothing but a UUID is taken from an
 * agent's bytes. Never throws.
 */
export function eventIdKeyOf(bytes: Uint8Array): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return undefined;
  }
  const id = (value as { event?: { id?: unknown } } | null)?.event?.id;
  return typeof id === 'string' && eventIdSchema.safeParse(id).success ? idKey(id) : undefined;
}

/** Validates an already-parsed value against the event schema. */
export function validateEvent(value: unknown): DecodeResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('INVALID_EVENT', null, 'an event must be a JSON object');
  }
  const result = agentEventSchema.safeParse(value, { error: schemaMessages });
  if (!result.success) {
    const issue = firstIssue(result.error);
    const field = issue.field ?? 'type';
    return reject('INVALID_EVENT', field, `${field}: ${issue.message}`);
  }
  // The parsed copy would be equal, but the original keeps the agent's key order exactly.
  return { ok: true, event: value as AgentEvent };
}

function reject(code: EventRejection['code'], field: string | null, message: string): DecodeResult {
  return { ok: false, rejection: { code, field, message } };
}
