import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { DependencyUnavailableError } from '@app/runtime';
import { ConsumerRunner, DeadLetterReason, ensureStreams, Headers, NatsClient, Outcome, publishDurably, type MessageHandler } from '@app/messaging';
import { NATS_URL } from './support/stack.js';
import { waitFor } from './support/wait.js';

describe('ConsumerRunner against the real JetStream', () => {
  let client: NatsClient;

  beforeAll(async () => {
    client = await NatsClient.connect({
      url: NATS_URL,
      prefix: `c${randomBytes(4).toString('hex')}`,
      streamMaxAgeMs: 3_600_000,
      duplicateWindowMs: 60_000,
      connectionName: 'consumer-runner-test',
    });
    await ensureStreams(client);
  });

  afterAll(async () => {
    for (const stream of Object.values(client.topology.streams)) await client.manager.streams.delete(stream).catch(() => undefined);
    await client.close();
  });

  const publish = (subject: string, text: string) =>
    publishDurably(client, subject, new TextEncoder().encode(text), { messageId: `${subject}:${text}` });

  async function deadLetters(durable: string, count: number, expiresMs = 10_000): Promise<Array<{ text: string; reason: string; detail: string }>> {
    const consumer = await client.jetstream.consumers.get(client.topology.streams.deadLetters, {
      filter_subjects: client.topology.deadLetters(durable),
      deliver_policy: DeliverPolicy.All,
    });
    const records: Array<{ text: string; reason: string; detail: string }> = [];
    while (records.length < count) {
      const message = await consumer.next({ expires: expiresMs });
      if (!message) break;
      records.push({ text: message.string(), reason: message.headers?.get(Headers.reason) ?? '', detail: message.headers?.get(Headers.detail) ?? '' });
    }
    return records;
  }

  it('dead-letters a poison message after its last attempt and keeps handling the ones behind it', async () => {
    const subject = client.topology.agentEvents('poison');
    const handled: string[] = [];
    const handler: MessageHandler = {
      async handle(message: JsMsg) {
        if (message.string() === 'poison') throw new Error('cannot parse');
        handled.push(message.string());
        return Outcome.done;
      },
    };
    const runner = new ConsumerRunner(
      client,
      ConsumerRunner.withDefaults({ durable: 'poison-test', stream: (t) => t.streams.ingress, filterSubject: () => subject, maxAttempts: 3 }),
      handler,
    );
    await runner.start();

    await publish(subject, 'poison');
    await publish(subject, 'after-1');
    await publish(subject, 'after-2');

    await waitFor(() => handled.length === 2 && runner.stats.skipped === 1, { what: 'the poison message to be given up on' });
    await runner.stop();
    expect(handled).toEqual(['after-1', 'after-2']);
    expect(runner.stats.retried).toBe(2);
    expect(await deadLetters('poison-test', 1)).toEqual([{ text: 'poison', reason: 'HANDLER_FAILED', detail: 'failed 3 times while every dependency was reachable: cannot parse' }]);
  });

  it('redelivers a message the handler asked to retry, after the delay, and records a skip with its reason', async () => {
    const subject = client.topology.agentEvents('retry');
    const attempts: Array<{ text: string; attempt: number }> = [];
    const handler: MessageHandler = {
      async handle(message: JsMsg) {
        attempts.push({ text: message.string(), attempt: message.info.deliveryCount });
        if (message.string() === 'never') return Outcome.skip(DeadLetterReason.UNKNOWN_ENDPOINT, 'endpoint e1 does not exist');
        return message.info.deliveryCount === 1 ? Outcome.retry('receiver busy', 200) : Outcome.done;
      },
    };
    const runner = new ConsumerRunner(
      client,
      ConsumerRunner.withDefaults({ durable: 'retry-test', stream: (t) => t.streams.ingress, filterSubject: () => subject }),
      handler,
    );
    await runner.start();

    await publish(subject, 'flaky');
    await publish(subject, 'never');

    await waitFor(() => runner.stats.done === 1 && runner.stats.skipped === 1, { what: 'both messages to settle' });
    await runner.stop();
    expect(attempts.filter((entry) => entry.text === 'flaky').map((entry) => entry.attempt)).toEqual([1, 2]);
    expect(attempts.filter((entry) => entry.text === 'never')).toHaveLength(1);
    expect(await deadLetters('retry-test', 1)).toEqual([{ text: 'never', reason: 'UNKNOWN_ENDPOINT', detail: 'endpoint e1 does not exist' }]);
  });

  it('retries an outage past the attempt limit, reports not healthy meanwhile, and never dead-letters it', async () => {
    const subject = client.topology.agentEvents('outage');
    let healthyWhileFailing: boolean | null = null;
    const handler: MessageHandler = {
      async handle(message: JsMsg) {
        if (message.info.deliveryCount === 3) healthyWhileFailing = runner.healthy;
        // Three failures with maxAttempts 2: a poison message would be dead-lettered after the second.
        if (message.info.deliveryCount <= 3) throw new DependencyUnavailableError('PostgreSQL is not reachable');
        return Outcome.done;
      },
    };
    const runner = new ConsumerRunner(
      client,
      ConsumerRunner.withDefaults({ durable: 'outage-test', stream: (t) => t.streams.ingress, filterSubject: () => subject, maxAttempts: 2 }),
      handler,
    );
    await runner.start();
    await publish(subject, 'waits');

    await waitFor(() => runner.stats.done === 1, { what: 'the message to be handled once the outage is over' });
    expect(healthyWhileFailing).toBe(false);
    expect(runner.healthy).toBe(true);
    await runner.stop();
    expect(runner.stats).toEqual({ done: 1, skipped: 0, retried: 3 });
    expect(await deadLetters('outage-test', 1, 1_000)).toEqual([]);
  });

  it('does not dead-letter an unexpected error while a dependency of the app is unreachable', async () => {
    const subject = client.topology.agentEvents('unreachable');
    let dependenciesUp = false;
    const handler: MessageHandler = {
      async handle(message: JsMsg) {
        if (message.info.deliveryCount < 3) throw new Error('relation "profile" is locked');
        dependenciesUp = true;
        return Outcome.done;
      },
    };
    const runner = new ConsumerRunner(
      client,
      ConsumerRunner.withDefaults({ durable: 'unreachable-test', stream: (t) => t.streams.ingress, filterSubject: () => subject, maxAttempts: 1 }),
      handler,
      () => dependenciesUp,
    );
    await runner.start();
    await publish(subject, 'kept');
    await waitFor(() => runner.stats.done === 1, { what: 'the message to be handled once its dependency is back' });
    await runner.stop();
    expect(runner.stats.skipped).toBe(0);
  });

  it('re-creates its durable consumer when it is deleted on the server, and goes on from where it was', async () => {
    const subject = client.topology.agentEvents('deleted');
    const handled: string[] = [];
    const handler: MessageHandler = {
      async handle(message: JsMsg) {
        handled.push(message.string());
        return Outcome.done;
      },
    };
    const runner = new ConsumerRunner(
      client,
      ConsumerRunner.withDefaults({ durable: 'deleted-test', stream: (t) => t.streams.ingress, filterSubject: () => subject }),
      handler,
    );
    await runner.start();
    await publish(subject, 'before');
    await waitFor(() => handled.length === 1 && runner.healthy, { what: 'the first message' });

    await client.manager.consumers.delete(client.topology.streams.ingress, 'deleted-test');
    await waitFor(() => !runner.healthy, { what: 'the runner to notice its consumer is gone' });
    await publish(subject, 'after');
    await waitFor(() => handled.length === 2 && runner.healthy, { what: 'the runner to re-create its consumer and go on' });
    await runner.stop();
    // Neither the message before the deletion again, nor a gap.
    expect(handled).toEqual(['before', 'after']);
  });
});
