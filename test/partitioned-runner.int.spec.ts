import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import { ConsumerRunner, DEFAULT_PARTITION_SETTINGS, ensureStreams, NatsClient, Outcome, PartitionedRunner, publishDurably, type HandleContext, type MessageHandler } from '@app/messaging';
import { NATS_URL } from './support/stack.js';
import { waitFor } from './support/wait.js';

/**
 * The partitioned reader against the real JetStream: a message that lets
 * the next of its key go on (passTurn, as profile-sync does for an event it
 * diverts to the lost events) never lets it overtake the key's earlier
 * messages still in hand; and a replica that reads the messages of every
 * partition (profile-sync's lifecycle) and takes a partition behind its
 * reader reads again from that partition's position, not from its last
 * lifecycle message.
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

  it('reads again from the position of a partition it takes behind its reader, not from the last message of every partition', async () => {
    const subject = client.topology.agentEvents('many-cameras');
    const publish = (text: string) => publishDurably(client, subject, new TextEncoder().encode(text), { messageId: text });
    // One message of every partition (a lifecycle change) first, then events of 32 keys.
    await publish('lifecycle');
    for (let index = 0; index < 200; index += 1) await publish(`event ${index} of key ${index % 32}`);
    const spec = { ...ConsumerRunner.withDefaults({ durable: 'reread-test', stream: (t) => t.streams.ingress, filterSubject: () => subject }), partitionKey: (message: JsMsg) => (message.string() === 'lifecycle' ? null : message.string().split(' of ')[1]!) };
    const handled = { first: 0, second: 0 };
    const every = (name: 'first' | 'second', gate: Promise<void> = Promise.resolve()): MessageHandler => ({
      broadcastFrom: () => 1,
      async handle() {
        await gate;
        handled[name] += 1;
        return Outcome.done;
      },
    });
    const settings = { ...DEFAULT_PARTITION_SETTINGS, leaseTtlMs: 3_000 };
    const first = new PartitionedRunner(client, spec, every('first'), { ...settings, instance: 'first' });
    await first.start();
    // The second replica takes its share and stands still on its first message (one at a time): its reader stays behind.
    let open!: () => void;
    const second = new PartitionedRunner(client, { ...spec, concurrency: 1 }, every('second', new Promise<void>((resolve) => (open = resolve))), { ...settings, instance: 'second' });
    try {
      await waitFor(() => first.stats.readTo >= 201, { what: 'the first replica to read every message' });
      await second.start();
      await waitFor(() => second.stats.partitions.length > 0 && first.stats.partitions.length + second.stats.partitions.length === DEFAULT_PARTITION_SETTINGS.count, {
        what: 'the replicas to share the partitions',
      });
      for (let index = 200; index < 300; index += 1) await publish(`event ${index} of key ${index % 32}`);
      await waitFor(() => first.stats.readTo >= 301, { what: 'the first replica to read the new messages' });
      // The second stops: its partitions, handed over where its reader stood, are behind the first's reader.
      const stopping = second.stop();
      open();
      await stopping;
      await waitFor(() => first.stats.partitions.length === DEFAULT_PARTITION_SETTINGS.count, { what: 'the first replica to take every partition' });
      await waitFor(() => first.stats.readerFrom > 201, { timeoutMs: 5_000, what: 'the reader to start again after the lifecycle message' }).catch(() => undefined);
      // Started again from the partitions it took (after the first 200 events), not from the lifecycle message (sequence 1).
      expect(first.stats.readerFrom).toBeGreaterThan(201);
      await waitFor(() => handled.first + handled.second >= 301, { what: 'every message handled' });
    } finally {
      await second.stop().catch(() => undefined);
      await first.stop();
    }
  });
});
