import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DeletedProfiles, ensureStreams, NatsClient, openConfigBucket, openImageStore, type NatsSettings } from '@app/messaging';
import { startNatsCluster } from './support/nats-cluster.js';
import type { OwnNatsServer } from './support/nats-server.js';

/**
 * NATS_REPLICAS reaches every stream, KV bucket and object store the apps
 * create: on a three-node JetStream cluster of the test's own (nats-server
 * 2.9, loopback) each gets three copies, one per server.
 */
describe('JetStream replicas on a three-node cluster', () => {
  const servers: OwnNatsServer[] = [];
  const clients: NatsClient[] = [];

  beforeAll(async () => {
    servers.push(...(await startNatsCluster()));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(servers.map((server) => server.stop()));
  });

  async function connectApp(prefix: string, replicas: number | undefined): Promise<NatsClient> {
    const settings: NatsSettings = {
      url: servers.map((server) => server.url).join(','),
      prefix,
      streamMaxAgeMs: 3_600_000,
      duplicateWindowMs: 60_000,
      streamMaxBytes: 16 * 1024 * 1024,
      deadLetterMaxBytes: 16 * 1024 * 1024,
      imageStoreMaxBytes: 16 * 1024 * 1024,
      connectionName: 'replicas-test',
      replicas,
    };
    const client = await NatsClient.connect(settings);
    clients.push(client);
    return client;
  }

  /** Every stream the client's prefix owns (data-path streams, KV buckets, the object store), with its replica count. */
  async function replicasByStream(client: NatsClient): Promise<Record<string, number>> {
    const found: Record<string, number> = {};
    for await (const info of client.manager.streams.list()) {
      if (info.config.name.toLowerCase().includes(client.topology.prefix)) found[info.config.name] = info.config.num_replicas;
    }
    return found;
  }

  async function createEverything(client: NatsClient): Promise<void> {
    await ensureStreams(client);
    await openConfigBucket(client);
    await DeletedProfiles.open(client, 3_600_000);
    await openImageStore(client);
  }

  it('creates every stream, bucket and object store with NATS_REPLICAS copies', async () => {
    const client = await connectApp('rthree', 3);
    await createEverything(client);
    const streams = await replicasByStream(client);
    expect(Object.keys(streams).sort()).toEqual(
      ['KV_rthree_config', 'KV_rthree_deleted_profiles', 'OBJ_rthree_images', ...Object.values(client.topology.streams)].sort(),
    );
    for (const [name, replicas] of Object.entries(streams)) expect([name, replicas]).toEqual([name, 3]);
    // Three copies on three servers: the leader and two followers.
    const info = await client.manager.streams.info(client.topology.streams.deliveries);
    expect(info.cluster?.replicas).toHaveLength(2);
  });

  it('keeps one copy without NATS_REPLICAS, and raising it adds copies to the data-path streams at the next start', async () => {
    const single = await connectApp('rone', undefined);
    await createEverything(single);
    expect(new Set(Object.values(await replicasByStream(single)))).toEqual(new Set([1]));

    const raised = await connectApp('rone', 3);
    await createEverything(raised);
    for (const name of Object.values(raised.topology.streams)) {
      expect([name, (await raised.manager.streams.info(name)).config.num_replicas]).toEqual([name, 3]);
    }
    // Buckets keep the count they were made with (the apps' users may not update them): operators raise them
    // by hand (docs/operations.md), and the apps warn at start until then.
    for (const name of ['KV_rone_config', 'KV_rone_deleted_profiles', 'OBJ_rone_images']) {
      expect([name, (await raised.manager.streams.info(name)).config.num_replicas]).toEqual([name, 1]);
    }
  });
});
