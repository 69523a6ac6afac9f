/**
 * The path of the first key that appears twice in one object of a JSON text
 * (`camera.id`, `candidates.0.id`), or null. JSON.parse keeps the last of
 * them, other parsers the first: an event with a duplicate key means one
 * thing to ingest and another to an integrator, so it is refused rather
 * than forwarded as the bytes that were sent. The text must already have
 * parsed (the scan trusts its syntax); one pass, no second parse.
 */
export function duplicateKeyOf(text: string): string | null {
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
      if (frame.keys!.has(key)) return [...frames.slice(0, -1).map((outer) => outer.at), key].join('.');
      frame.keys!.add(key);
      frame.at = key;
      expectingKey = false;
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
