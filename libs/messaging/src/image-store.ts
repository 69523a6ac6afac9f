import { createHash, randomUUID } from 'node:crypto';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { StorageType } from '@nats-io/jetstream';
import { headers as natsHeaders, nanos } from '@nats-io/transport-node';
import type { NatsClient } from './nats-connection.js';
import { isWrongLastSequence } from './publisher.js';
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

/** The image store's stream (the object store's name for its bucket's). */
export const imageStoreStream = (bucket: string): string => `OBJ_${bucket}`;
/** The subject of an image's chunks, in the object store's layout. */
export const imageChunksSubject = (bucket: string, nuid: string): string => `$O.${bucket}.C.${nuid}`;
/** The subject of an image's description, in the object store's layout (its name in padded base64url). */
export const imageDescriptionSubject = (bucket: string, name: string): string => `$O.${bucket}.M.${base64UrlPadded(Buffer.from(name))}`;

/** Whether the chunks of an image (its description's `nuid`) are still stored: they expire a moment before its description. */
export async function hasImageChunks(client: NatsClient, nuid: string): Promise<boolean> {
  const bucket = client.topology.imageBucket;
  return (await client.manager.streams.getMessage(imageStoreStream(bucket), { last_by_subj: imageChunksSubject(bucket, nuid) })) !== null;
}

/** The metadata key holding an image's content type. */
export const IMAGE_CONTENT_TYPE = 'content-type';

/** The object store's largest chunk (its client's default); never more than the server's payload limit. */
const MAX_CHUNK_BYTES = 128 * 1024;

/**
 * Adds one image to the image store, in the object store's own layout (its
 * chunks on `$O.<bucket>.C.<nuid>`, then its description on
 * `$O.<bucket>.M.<name>`), so that any object store client reads it. Unlike
 * the client's put it never purges: an image is only ever added (ingest's
 * NATS user may not purge the store), and its description is written only
 * where none is (a second writer of the same name is told so, and what it
 * added is left to expire with the store). Resolves true when added, false
 * when the name was taken already; throws what JetStream refused with.
 */
export async function addImage(client: NatsClient, name: string, contentType: string, bytes: Uint8Array): Promise<boolean> {
  const bucket = client.topology.imageBucket;
  const maxChunk = Math.min(MAX_CHUNK_BYTES, client.connection.info?.max_payload ?? MAX_CHUNK_BYTES);
  const nuid = randomUUID().replaceAll('-', '');
  let chunks = 0;
  for (let offset = 0; offset < bytes.length; offset += maxChunk) {
    await client.jetstream.publish(imageChunksSubject(bucket, nuid), bytes.subarray(offset, offset + maxChunk));
    chunks += 1;
  }
  const description = {
    name,
    description: '',
    options: { max_chunk_size: maxChunk },
    metadata: { [IMAGE_CONTENT_TYPE]: contentType },
    bucket,
    nuid,
    size: bytes.length,
    chunks,
    mtime: new Date().toISOString(),
    digest: `SHA-256=${base64UrlPadded(createHash('sha256').update(bytes).digest())}`,
    deleted: false,
  };
  const headers = natsHeaders();
  headers.set('Nats-Rollup', 'sub');
  // Only where no description is: an image is never replaced.
  headers.set('Nats-Expected-Last-Subject-Sequence', '0');
  try {
    await client.jetstream.publish(imageDescriptionSubject(bucket, name), JSON.stringify(description), { headers });
    return true;
  } catch (error) {
    if (isWrongLastSequence(error)) return false;
    throw error;
  }
}

/** Base64url with its padding, as the object store spells digests and names. */
function base64UrlPadded(bytes: Buffer): string {
  const text = bytes.toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}
