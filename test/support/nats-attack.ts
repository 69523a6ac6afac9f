import { randomUUID } from 'node:crypto';
import { expect } from '@jest/globals';
import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { PermissionViolationError, type NatsConnection } from '@nats-io/transport-node';
import { Topology } from '@app/messaging';
import { APP_NAMES } from '../../scripts/local-stack.js';

/** The durable consumers of the data path (the apps' consumer specs name the same). */
const DURABLES = ['ingest', 'profile-sync', 'filter-router', 'webhook-dispatcher', 'delivery-projector', 'dead-letter-projector'];

/**
 * Every subject inside the service's account that a reply subject could aim
 * an ack at, generated from the topology: every stream and bucket stream ×
 * every `$JS.API` verb that takes a stream (and a consumer, for each durable
 * and a random name), the acks of each durable, every bucket's key families,
 * the data path's own subjects, the dead letters and every app's inbox.
 */
export function replySubjectsInside(prefix: string): string[] {
  const topology = new Topology(prefix);
  const id = randomUUID();
  const streams = [
    ...Object.values(topology.streams),
    ...[topology.configBucket, topology.secretsBucket, topology.tokensBucket, topology.deletedProfilesBucket, topology.cameraBucket].map((bucket) => `KV_${bucket}`),
    `OBJ_${topology.imageBucket}`,
  ];
  const consumers = [...DURABLES, `x${id.slice(0, 8)}`];
  const subjects = ['$JS.API.INFO', '$JS.API.STREAM.NAMES', '$JS.API.STREAM.LIST', '$JS.API.META.LEADER.STEPDOWN', '$JS.API.SERVER.REMOVE'];
  for (const stream of streams) {
    for (const verb of ['CREATE', 'UPDATE', 'DELETE', 'INFO', 'PURGE', 'SNAPSHOT', 'RESTORE', 'MSG.GET', 'MSG.DELETE', 'LEADER.STEPDOWN', 'PEER.REMOVE']) {
      subjects.push(`$JS.API.STREAM.${verb}.${stream}`);
    }
    subjects.push(`$JS.API.CONSUMER.CREATE.${stream}`, `$JS.API.CONSUMER.LIST.${stream}`, `$JS.API.CONSUMER.NAMES.${stream}`, `$JS.API.DIRECT.GET.${stream}`);
    for (const consumer of consumers) {
      subjects.push(
        `$JS.API.CONSUMER.CREATE.${stream}.${consumer}`,
        `$JS.API.CONSUMER.CREATE.${stream}.${consumer}.${topology.ingestedEvents}`,
        `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${consumer}`,
        ...['DELETE', 'INFO', 'MSG.NEXT', 'LEADER.STEPDOWN'].map((verb) => `$JS.API.CONSUMER.${verb}.${stream}.${consumer}`),
        // An ack (any body but a nak or a term acks) of the first messages the consumer may hold.
        ...[1, 2, 3].map((seq) => `$JS.ACK.${stream}.${consumer}.1.${seq}.${seq}.0.0`),
      );
    }
    subjects.push(`$JS.FC.${stream}.x.1`);
  }
  const config = `$KV.${topology.configBucket}`;
  subjects.push(
    ...['endpoints', 'filters', 'secrets', 'health', 'tokens'].map((family) => `${config}.${family}.${id}`),
    `${config}.published`,
    `$KV.${topology.secretsBucket}.secrets.${id}`,
    `$KV.${topology.secretsBucket}.published`,
    ...['tokens', 'connections'].map((family) => `$KV.${topology.tokensBucket}.${family}.${id}`),
    `$KV.${topology.deletedProfilesBucket}.${id}`,
    `$KV.${topology.cameraBucket}.${id}`,
    `$O.${topology.imageBucket}.C.${id.replaceAll('-', '')}`,
    `$O.${topology.imageBucket}.M.${Buffer.from(id).toString('base64url')}`,
  );
  subjects.push(
    topology.agentEvents(randomUUID()),
    topology.ingestedEvents,
    topology.profileUpserted,
    topology.profileDeleted,
    topology.routableEvents,
    topology.websocketDeliveries(id),
    topology.websocketPositions(id),
    topology.webhookDeliveries(id),
    topology.deliveryChanges,
    topology.configApplied,
    topology.tokensApplied,
    topology.moveCameraCommands,
    topology.deadLetterCommands,
    topology.deadLetterAnswer(id.replaceAll('-', '')),
    ...APP_NAMES.map((app) => topology.barrierAnswer(app, id.replaceAll('-', ''))),
    ...[...DURABLES, ...APP_NAMES].map((consumer) => topology.deadLetters(consumer)),
    ...APP_NAMES.map((app) => `_INBOX_${app}.${id}`),
    `_INBOX.${id}`,
  );
  return [...new Set(subjects)];
}

/** Headers a publisher could add to reach beyond its own message: another's message id, expectations, a roll-up. */
export function attackHeaders(otherMessageId: string): Array<Record<string, string>> {
  return [
    { 'Nats-Msg-Id': otherMessageId },
    { 'Nats-Expected-Stream': 'ES_EVENTS' },
    { 'Nats-Expected-Last-Sequence': '1' },
    { 'Nats-Expected-Last-Subject-Sequence': '1' },
    { 'Nats-Expected-Last-Msg-Id': otherMessageId },
    { 'Nats-Rollup': 'all' },
    { 'Nats-Rollup': 'sub' },
  ];
}

/** What a stream holds and how it is configured, with its durable consumers (ephemeral ones come and go with the apps). */
export interface StreamSnapshot {
  config: StreamInfo['config'];
  state: { messages: number; bytes: number; first_seq: number; last_seq: number; num_deleted?: number; num_subjects?: number };
  durables: Record<string, { config: unknown; delivered: unknown; ack_floor: unknown; num_pending: number; num_ack_pending: number }>;
}

/** Every stream of the account (the buckets' included), by name. */
export async function snapshotStreams(manager: JetStreamManager): Promise<Record<string, StreamSnapshot>> {
  const snapshot: Record<string, StreamSnapshot> = {};
  for await (const info of manager.streams.list()) {
    const { messages, bytes, first_seq, last_seq, num_deleted, num_subjects } = info.state;
    const durables: StreamSnapshot['durables'] = {};
    for await (const consumer of manager.consumers.list(info.config.name)) {
      if (!consumer.config.durable_name) continue;
      const { config, delivered, ack_floor, num_pending, num_ack_pending } = consumer;
      durables[consumer.name] = { config, delivered: { ...delivered, last_active: undefined }, ack_floor: { ...ack_floor, last_active: undefined }, num_pending, num_ack_pending };
    }
    snapshot[info.config.name] = { config: info.config, state: { messages, bytes, first_seq, last_seq, num_deleted, num_subjects }, durables };
  }
  return snapshot;
}

/** The request was refused by the server's permissions (the client names the subject refused); returns that subject. */
export async function expectRefused(action: Promise<unknown>, subjectStart: string): Promise<string> {
  const outcome = await action.then(
    () => null,
    (error: unknown) => error,
  );
  const violation = permissionViolationIn(outcome);
  expect([violation ? 'refused' : `not refused: ${String(outcome)}`, violation?.operation]).toEqual(['refused', 'publish']);
  expect(violation!.subject.startsWith(subjectStart)).toBe(true);
  return violation!.subject;
}

/** The server refused the subscription: the client closes it with the permission error. */
export async function expectRefusedSubscription(connection: NatsConnection, subject: string): Promise<void> {
  const subscription = connection.subscribe(subject);
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    subscription.closed,
    new Promise<'still open'>((resolve) => (timer = setTimeout(() => resolve('still open'), 5_000))),
  ]).finally(() => clearTimeout(timer));
  subscription.unsubscribe();
  const violation = permissionViolationIn(closed);
  expect([subject, violation ? 'refused' : `not refused: ${String(closed)}`, violation?.operation, violation?.subject]).toEqual([subject, 'refused', 'subscription', subject]);
}

export function permissionViolationIn(error: unknown): PermissionViolationError | null {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if (current instanceof PermissionViolationError) return current;
    current = current.cause;
  }
  return null;
}
