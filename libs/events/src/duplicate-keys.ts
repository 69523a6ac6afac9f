/** How deep an event's objects and arrays may nest (the seed's go five deep). */
export const MAX_NESTING = 32;

/** What shapeProblemOf refuses, with the path of the field at fault. */
export interface ShapeProblem {
  kind: 'duplicate-key' | 'too-deep';
  path: string;
}

/**
 * The first key that appears twice in one object of a JSON text, or the
 * first value nested deeper than MAX_NESTING, with its path (`camera.id`,
 * `candidates.0.id`); null when there is neither. JSON.parse keeps the last
 * of two keys, other parsers the first: an event with a duplicate key means
 * one thing to ingest and another to an integrator, so it is refused rather
 * than forwarded as the bytes that were sent. The text must already have
 * parsed (the scan trusts its syntax); one pass, no second parse. Apps
 * write events again (JSON.stringify recurses): an event nested thousands
 * deep would overflow the stack wherever it is written.
 */
export function shapeProblemOf(text: string): ShapeProblem | null {
  // One frame per open object (its keys so far) or array (its index); `at` is the key or index of the value being read.
  const frames: Array<{ keys: Set<string> | null; at: string; index: number }> = [];
  let expectingKey = false;
  for (let position = 0; position < text.length; position += 1) {
    const char = text.charCodeAt(position);
    if (char === 0x22 /* " */) {
      const start = position;
      for (position += 1; text.charCodeAt(position) !== 0x22; position += 1) if (text.charCodeAt(position) === 0x5c /* \ */) position += 1;
      if (!expectingKey) continue;
      const raw = text.slice(start + 1, position);
      const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
      const frame = frames.at(-1)!;
      if (frame.keys!.has(key)) return { kind: 'duplicate-key', path: [...frames.slice(0, -1).map((outer) => outer.at), key].join('.') };
      frame.keys!.add(key);
      frame.at = key;
      expectingKey = false;
    } else if ((char === 0x7b /* { */ || char === 0x5b /* [ */) && frames.length === MAX_NESTING) {
      return { kind: 'too-deep', path: frames.map((outer) => outer.at).join('.') };
    } else if (char === 0x7b /* { */) {
      frames.push({ keys: new Set(), at: '', index: 0 });
      expectingKey = true;
    } else if (char === 0x5b /* [ */) {
      frames.push({ keys: null, at: '0', index: 0 });
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      frames.pop();
      expectingKey = false;
    } else if (char === 0x2c /* , */) {
      const frame = frames.at(-1)!;
      if (frame.keys) expectingKey = true;
      else frame.at = String((frame.index += 1));
    }
  }
  return null;
}
