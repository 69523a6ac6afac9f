import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import { ConsumerRunner, DEFAULT_PARTITION_SETTINGS, ensureStreams, NatsClient, Outcome, PartitionedRunner, publishDurably, type HandleContext, type MessageHandler } from '@app/messaging';
import { NATS_URL } from './support/stack.js';
import { waitFor } from './support/wait.js';

/**
 * The partitioned reader's order within a key, against the real JetStream:
 * a message that lets the next go on (passTurn, as profile-sync does for an
 * event it diverts to the lost events) never lets it overtake the key's
 * earlier messages still in hand.
 */
describe('PartitionedRunner against the real JetStream', () => {
  let client: NatsClient;

  beforeAll(async () => {
    client = await NatsClient.connect({ url: NATS_URL, prefix: `r${randomBytes(4).toString('hex')}`, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 60_000, connectionName: 'partitioned-runner-test' });
    await ensureStreams(client);
  });

  afterAll(async () => {
    for (const stream of Object.values(client.topology.streams)) await client.manager.streams.delete(stream).catch(() => undefined);
    await client.manager.streams.delete(`KV_${client.topology.leasesBucket}`).catch(() => undefined);
    await client.close();
  });

  it('keeps a key in order when a message passes its turn while an earlier one is still in hand', async () => {
    const subject = client.topology.agentEvents('one-camera');
    // Three messages of one key: the first is slow (its store waits), the second passes its turn at once, the third follows.
    for (const text of ['first', 'passes', 'third']) await publishDurably(client, subject, new TextEncoder().encode(text), { messageId: text });
    const stored: string[] = [];
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    let passed = false;
    let thirdStarted = false;
    // The slow store ends once the second has passed its turn and the third waits for its own (a macrotask later).
    const releaseWhenBothSeen = () => {
      if (passed && thirdStarted) setImmediate(release);
    };
    const handler: MessageHandler = {
      async handle(message: JsMsg, context: HandleContext) {
        const text = message.string();
        if (text === 'passes') {
          context.passTurn();
          passed = true;
          releaseWhenBothSeen();
          return Outcome.done;
        }
        if (text === 'third') {
          thirdStarted = true;
          releaseWhenBothSeen();
        }
        await context.turn;
        if (text === 'first') await slow;
        stored.push(text);
        return Outcome.done;
      },
    };
    const runner = new PartitionedRunner(
      client,
      { ...ConsumerRunner.withDefaults({ durable: 'order-test', stream: (t) => t.streams.ingress, filterSubject: () => subject }), partitionKey: () => 'camera' },
      handler,
      { ...DEFAULT_PARTITION_SETTINGS, leaseTtlMs: 3_000 },
    );
    await runner.start();
    try {
      await waitFor(() => stored.length === 2, { what: 'the first and the third to be stored' });
      expect(stored).toEqual(['first', 'third']);
    } finally {
      await runner.stop();
    }
  });
});
