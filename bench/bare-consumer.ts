import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JetStreamClient } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/**
 * What every bare hop of the benchmarks starts with (forked with IPC): a
 * durable consumer of `subject` on `stream`, explicit acks, `window`
 * messages pulled at a time. The hop exits when the benchmark that forked it
 * goes, even one that ended without stopping it.
 */
export async function bareConsumer(url: string, stream: string, subject: string, durable: string, window: number): Promise<{ js: JetStreamClient; messages: ConsumerMessages }> {
  process.once('disconnect', () => process.exit(0));
  const connection = await connect({ servers: url });
  const manager = await jetstreamManager(connection);
  const js = jetstream(connection);
  await manager.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: subject, max_ack_pending: window * 4 });
  const messages = await (await js.consumers.get(stream, durable)).consume({ max_messages: window });
  return { js, messages };
}
