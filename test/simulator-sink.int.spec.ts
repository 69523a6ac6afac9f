import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NatsClient, streamConfigs } from '@app/messaging';
import { NatsSink } from '@app/simulator';
import { freshEvent } from './support/fixtures.js';
import { deleteStreamsOf, NATS_URL } from './support/stack.js';
import { waitFor } from './support/wait.js';

/**
 * The simulator's NATS sink, as an agent publishes: a publish answered "no
 * responders" (no stream took it; in operator mode, the instant a server
 * takes the agents account's update) stored nothing and is sent again with
 * its message id until a stream takes it, once.
 */
describe("the simulator's NATS sink", () => {
  const prefix = `sink${randomBytes(4).toString('hex')}`;
  let client: NatsClient;
  let sink: NatsSink;

  beforeAll(async () => {
    client = await NatsClient.connect({ url: NATS_URL, prefix, streamMaxAgeMs: 3_600_000, duplicateWindowMs: 60_000, connectionName: 'simulator-sink-test' });
    sink = await NatsSink.open({ servers: NATS_URL }, prefix);
  });

  afterAll(async () => {
    await sink?.close();
    await deleteStreamsOf(client.manager, prefix);
    await client?.close();
  });

  it('sends again a publish answered "no responders", and it is stored once when a stream takes it', async () => {
    const agentId = randomUUID();
    const event = freshEvent({ agentId });
    // No stream of this prefix yet: the first publish reaches none.
    const published = sink.event(agentId, JSON.stringify(event), event.event.id);
    await waitFor(() => sink.resent >= 1, { what: 'the first publish to be answered "no responders"' });
    await client.manager.streams.add(streamConfigs(client).find((config) => config.name === client.topology.streams.ingress)!);
    await published;
    const ingress = await client.manager.streams.info(client.topology.streams.ingress);
    expect(ingress.state.messages).toBe(1);
    const stored = await client.manager.streams.getMessage(client.topology.streams.ingress, { seq: ingress.state.first_seq });
    expect([stored!.subject, stored!.json<{ event: { id: string } }>().event.id]).toEqual([`${prefix}.agents.${agentId}.events`, event.event.id]);
  });

  it('gives up after five tries when no stream ever takes it, with the error', async () => {
    const other = await NatsSink.open({ servers: NATS_URL }, `${prefix}none`);
    try {
      const agentId = randomUUID();
      const event = freshEvent({ agentId });
      await expect(other.event(agentId, JSON.stringify(event), event.event.id)).rejects.toThrow(/jetstream is not enabled/);
      expect(other.resent).toBe(4);
    } finally {
      await other.close();
    }
  });
});
