import type { DeliveryChange } from '@app/domain';

export { DeliveryOutcome, type AttemptLine, type DeliveryChange, type RetryChange } from '@app/domain';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One message of the attempts stream: a JSON array of changes, in the order they were made. */
export function encodeChanges(changes: DeliveryChange[]): Uint8Array {
  return encoder.encode(JSON.stringify(changes));
}

const isChange = (value: DeliveryChange): boolean =>
  typeof value?.id === 'string' && typeof value.endpointId === 'string' && typeof value.eventId === 'string' && typeof value.retry?.kind === 'string';

/** Null when the bytes are not an array of change records. */
export function decodeChanges(data: Uint8Array): DeliveryChange[] | null {
  try {
    const value = JSON.parse(decoder.decode(data)) as DeliveryChange[];
    return Array.isArray(value) && value.every(isChange) ? value : null;
  } catch {
    return null;
  }
}
