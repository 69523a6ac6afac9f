import { z } from 'zod';
import { parseBytes, parseDuration } from './duration.js';

/** Raised when the environment does not satisfy an app's config schema; the message names every bad variable. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
}

/**
 * Variables earlier versions read, with what replaced them. Set, they stop
 * the start: silently ignored, `IMAGE_REQUIRE_TOKEN=true` would make images
 * public and a `CONFIG_SECRET_KEY` would not seal anything.
 */
const REPLACED_VARS: Record<string, string> = {
  IMAGE_REQUIRE_TOKEN: 'IMAGE_ACCESS=signed (with IMAGE_LINK_KEY) requires a signed link or a token for images',
  CONFIG_SECRET_KEY: 'SECRET_KEYS=<id>:<key> (the same key works: SECRET_KEYS=k1:$CONFIG_SECRET_KEY)',
};

/** Validates `env` once against `schema` and returns the typed config. */
export function loadConfig<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const replaced = Object.keys(REPLACED_VARS).filter((name) => env[name] !== undefined && env[name] !== '');
  const result = schema.safeParse(env);
  if (result.success && replaced.length === 0) {
    return result.data;
  }
  const problems = [
    ...replaced.map((name) => `${name}: no longer read; use ${REPLACED_VARS[name]}`),
    ...(result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`)),
  ];
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** An environment variable written as text and read by `parse` (which throws a readable error for a bad value). */
function parsedVar(fallback: string, parse: (text: string) => number) {
  return z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      try {
        return parse(text);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    });
}

/** An environment variable holding a duration such as `30s`; the value is milliseconds. */
export const durationVar = (fallback: string) => parsedVar(fallback, parseDuration);

/** An environment variable holding a size (`512MiB`, `8GiB`, or bytes). */
export const bytesVar = (fallback: string) => parsedVar(fallback, parseBytes);

/** An environment variable holding a TCP port; `0` lets the OS choose. */
export const portVar = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback);

/** An environment variable holding a boolean (`true`/`false`/`1`/`0`). */
export const booleanVar = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1');
