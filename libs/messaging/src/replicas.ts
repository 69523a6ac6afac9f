import { Logger } from '@nestjs/common';
import type { NatsSettings } from './nats-connection.js';

const logger = new Logger('JetStreamReplicas');

/** The copies JetStream keeps of each stream, KV bucket and object store an app creates (NATS_REPLICAS; 1 when unset). */
export function replicasOf(settings: Pick<NatsSettings, 'replicas'>): number {
  return settings.replicas ?? 1;
}

/**
 * KV buckets and object stores get NATS_REPLICAS when they are created: the
 * client opens an existing one as it is, and the apps' NATS users may not
 * update those streams (deploy/nats/event-service.conf). A bucket made
 * before NATS_REPLICAS was raised would silently stay at fewer copies than
 * the operator asked for, so say so at start, with the command that fixes it.
 * (The data-path streams are updated at every start: ensureStreams.)
 */
export function warnWhenReplicasDiffer(stream: string, actual: number, wanted: number): void {
  if (actual === wanted) return;
  logger.warn(
    `${stream} has ${actual} replica(s) but NATS_REPLICAS is ${wanted}; it keeps the count it was created with: ` +
      `nats stream edit ${stream} --replicas ${wanted} (as the ops user) changes it (docs/operations.md: JetStream replicas)`,
  );
}
