import { performance } from 'node:perf_hooks';
import { openConfigBucket } from '@app/messaging';
import { TestStack } from '../test/support/stack.js';

/**
 * How long an endpoint change takes from the GraphQL mutation's start until
 * filter-router and websocket-gateway have both applied it (their /readyz
 * configRevision reaches the bucket's revision). Prints p50, p99 and max.
 */
const CHANGES = Number(process.env.CONFIG_CHANGES ?? 100);

const stack = await TestStack.start({ apps: ['api', 'filter-router', 'websocket-gateway'], env: { LOG_FORMAT: 'json' } });
const bucket = await openConfigBucket(await stack.natsClient());
const samples: number[] = [];
try {
  for (let i = 0; i < CHANGES; i += 1) {
    const started = performance.now();
    await stack.createWebsocketEndpoint(`propagation ${i}`);
    const revision = (await bucket.status()).streamInfo.state.last_seq;
    for (const app of ['filter-router', 'websocket-gateway'] as const) {
      while ((await stack.readiness(app)).configRevision < revision) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    samples.push(performance.now() - started);
  }
} finally {
  await stack.stop();
}
samples.sort((a, b) => a - b);
const at = (quantile: number) => samples[Math.min(samples.length - 1, Math.floor(quantile * samples.length))]!.toFixed(1);
console.log(`config propagation over ${CHANGES} endpoint creations: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${samples[samples.length - 1]!.toFixed(1)} ms (goal: within 1 s)`);
process.exit(0);
