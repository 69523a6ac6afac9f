import { Objm, type ObjectStore } from '@nats-io/obj';
import { StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { NatsClient } from './nats-connection.js';
import { replicasOf, warnWhenReplicasDiffer } from './replicas.js';

/**
 * Event images in JetStream's object store (no other service to run): kept
 * as long as the events (`STREAM_MAX_AGE`), at most IMAGE_STORE_MAX_BYTES
 * (when full, storing an image fails: ingest answers 503), chunked under
 * NATS's message limit.
 */
export async function openImageStore(client: NatsClient): Promise<ObjectStore> {
  const replicas = replicasOf(client.settings);
  const store = await new Objm(client.jetstream).create(client.topology.imageBucket, {
    storage: StorageType.File,
    ttl: nanos(client.settings.streamMaxAgeMs),
    max_bytes: client.settings.imageStoreMaxBytes ?? -1,
    replicas,
  });
  const status = await store.status();
  warnWhenReplicasDiffer(status.streamInfo.config.name, status.replicas, replicas);
  return store;
}

/** The metadata key holding an image's content type. */
export const IMAGE_CONTENT_TYPE = 'content-type';
