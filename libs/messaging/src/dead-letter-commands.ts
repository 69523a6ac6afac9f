import { randomUUID } from 'node:crypto';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/transport-node';
import type { DeadLetterCommand, DeadLetterCommandAnswer } from '@app/domain';
import type { NatsClient } from './nats-connection.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Why a dead-letter command got no answer: no dispatcher subscribed, or none answered in time. */
export class DeadLetterCommandUnanswered extends Error {
  constructor(
    readonly why: 'no-dispatcher' | 'timeout',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Sends a dead-letter command to the webhook-dispatcher (one replica takes
 * it) and waits up to `timeoutMs` for its answer, which comes on an answer
 * subject of the dispatcher's own (Topology.deadLetterAnswer), not on the
 * api's inbox. With no dispatcher subscribed, the server says so at once.
 */
export async function sendDeadLetterCommand(client: NatsClient, command: DeadLetterCommand, timeoutMs: number): Promise<DeadLetterCommandAnswer> {
  const reply = client.topology.deadLetterAnswer(randomUUID().replaceAll('-', ''));
  try {
    const answer = await client.connection.request(client.topology.deadLetterCommands, encoder.encode(JSON.stringify(command)), { timeout: timeoutMs, noMux: true, reply });
    return JSON.parse(decoder.decode(answer.data)) as DeadLetterCommandAnswer;
  } catch (error) {
    if (error instanceof NoRespondersError || (error instanceof RequestError && error.isNoResponders())) {
      throw new DeadLetterCommandUnanswered('no-dispatcher', 'no webhook-dispatcher is running to take the command');
    }
    if (error instanceof TimeoutError || (error as Error).cause instanceof TimeoutError) {
      throw new DeadLetterCommandUnanswered('timeout', `the webhook-dispatcher did not answer within ${timeoutMs / 1_000} s; the command may still be running: list the dead letters again`);
    }
    throw error;
  }
}
