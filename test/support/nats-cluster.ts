import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { OwnNatsServer } from './nats-server.js';
import { freePort } from './ports.js';
import { waitFor } from './wait.js';

/**
 * A three-node JetStream cluster of a test's own (nats-server on loopback,
 * each with its store and a route to the others), returned once a stream
 * of three copies can be made on it: the cluster elects its meta leader a
 * moment after the routes connect, and the leader learns of every peer a
 * moment later; until then a request times out, or a three-copy stream finds
 * "no suitable peers for placement". Stop every server when done.
 */
export async function startNatsCluster(size = 3): Promise<OwnNatsServer[]> {
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((port) => `nats://127.0.0.1:${port}`).join(',');
  const servers: OwnNatsServer[] = [];
  try {
    for (const [index, port] of clusterPorts.entries()) {
      servers.push(await OwnNatsServer.start(['--server_name', `n${index + 1}`, '--cluster_name', 'event-service-test', '--cluster', `nats://127.0.0.1:${port}`, '--routes', routes]));
    }
    const probe = await connect({ servers: servers.map((server) => server.url) });
    try {
      const manager = await waitFor(() => jetstreamManager(probe, { timeout: 2_000 }).catch(() => null), { timeoutMs: 40_000, what: 'the JetStream meta leader' });
      await waitFor(
        () => manager.streams.add({ name: 'CLUSTER_PROBE', subjects: ['cluster.probe'], num_replicas: size }).then(() => true, () => null),
        { timeoutMs: 40_000, intervalMs: 250, what: `${size} JetStream peers` },
      );
      await manager.streams.delete('CLUSTER_PROBE');
    } finally {
      await probe.close();
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.stop()));
    throw error;
  }
  return servers;
}
