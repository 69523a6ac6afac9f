import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { natsEnv, runtimeEnv } from './fragments.js';
import { ConfigError, loadConfig } from './load-config.js';
import { resolveApiToken } from './api-token.js';

describe('loadConfig', () => {
  const schema = z.object({ ...natsEnv, ...runtimeEnv });

  it('applies defaults and converts durations to milliseconds', () => {
    const config = loadConfig(schema, {});
    expect(config).toMatchObject({ NATS_URL: 'nats://127.0.0.1:4222', NATS_PREFIX: 'es', STREAM_MAX_AGE: 7 * 86_400_000 });
  });

  it('names every bad variable in one error', () => {
    expect(() => loadConfig(schema, { NATS_PREFIX: 'Bad.Prefix', STREAM_MAX_AGE: 'forever' })).toThrow(ConfigError);
    expect(() => loadConfig(schema, { NATS_PREFIX: 'Bad.Prefix', STREAM_MAX_AGE: 'forever' })).toThrow(/NATS_PREFIX: .*; STREAM_MAX_AGE: /);
  });

  it('takes an inbox prefix of subject tokens, and refuses wildcards', () => {
    expect(loadConfig(schema, { NATS_INBOX_PREFIX: '_INBOX_webhook-dispatcher' }).NATS_INBOX_PREFIX).toBe('_INBOX_webhook-dispatcher');
    expect(loadConfig(schema, {}).NATS_INBOX_PREFIX).toBeUndefined();
    for (const bad of ['_INBOX.>', '_INBOX.*', '_INBOX.', 'in box']) expect(() => loadConfig(schema, { NATS_INBOX_PREFIX: bad })).toThrow(/NATS_INBOX_PREFIX/);
  });

  it('keeps one copy of each stream unless NATS_REPLICAS asks for more, up to the 5 JetStream allows', () => {
    expect(loadConfig(schema, {}).NATS_REPLICAS).toBe(1);
    expect(loadConfig(schema, { NATS_REPLICAS: '3' }).NATS_REPLICAS).toBe(3);
    expect(loadConfig(schema, { NATS_REPLICAS: '5' }).NATS_REPLICAS).toBe(5);
    expect(() => loadConfig(schema, { NATS_REPLICAS: '0' })).toThrow(/NATS_REPLICAS: at least 1/);
    expect(() => loadConfig(schema, { NATS_REPLICAS: '6' })).toThrow(/NATS_REPLICAS: at most 5/);
    for (const bad of ['2.5', 'three', '']) expect(() => loadConfig(schema, { NATS_REPLICAS: bad })).toThrow(/NATS_REPLICAS: /);
  });

  it('refuses a variable an earlier version read, naming what replaced it (images would go public, secrets unsealed)', () => {
    expect(() => loadConfig(schema, { IMAGE_REQUIRE_TOKEN: 'true' })).toThrow(/IMAGE_REQUIRE_TOKEN: no longer read; use IMAGE_ACCESS=signed/);
    expect(() => loadConfig(schema, { CONFIG_SECRET_KEY: 'a'.repeat(44) })).toThrow(/CONFIG_SECRET_KEY: no longer read; use SECRET_KEYS=/);
    expect(() => loadConfig(schema, { CONFIG_SECRET_KEY: 'a'.repeat(44) })).not.toThrow(/aaaa/);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['250', 250],
  ])('reads %s', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

describe('resolveApiToken', () => {
  it('refuses to run production without a token', () => {
    expect(() => resolveApiToken(undefined, 'production')).toThrow(/API_TOKEN is not set/);
  });

  it('generates a development token that is not guessable', () => {
    const first = resolveApiToken(undefined, 'development');
    expect(first.generated).toBe(true);
    expect(first.token).not.toBe(resolveApiToken(undefined, 'development').token);
  });
});
