import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { ConfigKeys, hashToken, NatsClient, openConfigBucket, TokenScope, TokenView } from '@app/messaging';
import { NATS_URL } from './support/stack.js';
import { waitFor } from './support/wait.js';

/**
 * A token watch whose consumer is gone neither delivers nor ends: the view
 * must notice it behind the bucket, stop being healthy (the app's `tokens`
 * readiness), and read every token again, against the real NATS.
 */
describe('a hung token watch', () => {
  let client: NatsClient;
  let view: TokenView | null = null;

  beforeAll(async () => {
    client = await NatsClient.connect({ url: NATS_URL, prefix: `w${randomBytes(4).toString('hex')}`, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 60_000, connectionName: 'token-watch-test' });
  });

  afterAll(async () => {
    view?.stop();
    await client.manager.streams.delete(`KV_${client.topology.tokensBucket}`).catch(() => undefined);
    await client.close();
  });

  it('is taken for hung once it has applied nothing of a revocation for its deadline: unhealthy, then every token read again and the revocation told', async () => {
    const bucket = await openConfigBucket(client, 'tokens');
    const [id, token] = [randomUUID(), `est_${randomBytes(16).toString('hex')}`];
    await bucket.put(ConfigKeys.token(id), JSON.stringify({ id, hash: hashToken(token), scope: TokenScope.READ_ONLY, agentIds: [], version: 1 }));
    view = new TokenView(bucket, { afterMs: 1_000, checkMs: 100 });
    const running = view;
    await running.start();
    expect(running.find(hashToken(token))?.id).toBe(id);
    const revoked: string[] = [];
    running.onRevoked((tokenId) => revoked.push(tokenId));
    const healthSeen: boolean[] = [];
    const watching = setInterval(() => healthSeen.push(running.healthy), 10);

    // The server loses the watch's consumer: the watch hangs, and the revocation does not reach it.
    for await (const consumer of client.manager.consumers.list(`KV_${client.topology.tokensBucket}`)) {
      await client.manager.consumers.delete(`KV_${client.topology.tokensBucket}`, consumer.name);
    }
    await bucket.delete(ConfigKeys.token(id));
    expect(running.find(hashToken(token))?.id).toBe(id);

    await waitFor(() => running.restarts === 1 && running.healthy && running.find(hashToken(token)) === undefined, { what: 'the view to read the tokens again without the revoked one' });
    clearInterval(watching);
    // Between the stall and the tokens read again it said so; and the connections the token admitted are told to close.
    expect(healthSeen.includes(false)).toBe(true);
    expect(revoked).toEqual([id]);
  });
});
