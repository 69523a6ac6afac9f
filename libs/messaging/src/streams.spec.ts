import { describe, expect, it } from '@jest/globals';
import { loadConfig, natsEnv } from '@app/config';
import { z } from 'zod';
import { natsSettings, type NatsSettings } from './nats-connection.js';
import { replicasOf } from './replicas.js';
import { streamConfigs, streamsOfApp, streamsOwnedBy, type StreamKey } from './streams.js';
import { Topology } from './topology.js';

const settingsFrom = (env: NodeJS.ProcessEnv): NatsSettings => natsSettings(loadConfig(z.object(natsEnv), env), 'ingest');
const configsOf = (settings: NatsSettings) => streamConfigs({ topology: new Topology(settings.prefix), settings });

describe('stream replicas', () => {
  it('gives every data-path stream one copy by default', () => {
    const settings = settingsFrom({});
    expect(replicasOf(settings)).toBe(1);
    expect(configsOf(settings).map(({ name, num_replicas }) => [name, num_replicas])).toEqual(
      ['ES_INGRESS', 'ES_EVENTS', 'ES_ROUTABLE', 'ES_DELIVERIES', 'ES_ATTEMPTS', 'ES_DEAD_LETTERS'].map((name) => [name, 1]),
    );
  });

  it('gives every data-path stream the copies NATS_REPLICAS asks for (3 on a three-node cluster)', () => {
    const settings = settingsFrom({ NATS_REPLICAS: '3' });
    expect(settings.replicas).toBe(3);
    const configs = configsOf(settings);
    expect(configs).toHaveLength(Object.keys(new Topology('es').streams).length);
    for (const config of configs) expect([config.name, config.num_replicas]).toEqual([config.name, 3]);
  });
});

describe('who keeps each stream up to date', () => {
  const apps = ['api', 'ingest', 'profile-sync', 'filter-router', 'websocket-gateway', 'webhook-dispatcher'];

  it('gives every stream exactly one owner among the apps that use it, and a tool (no app) all of them', () => {
    const keys = Object.keys(new Topology('es').streams) as StreamKey[];
    for (const key of keys) {
      const owners = apps.filter((app) => streamsOwnedBy(app)!.includes(key));
      expect([key, owners.length]).toEqual([key, 1]);
      expect([key, streamsOfApp(owners[0]!)]).toEqual([key, expect.arrayContaining([key])]);
    }
    expect(streamsOwnedBy('test-tool')).toBeUndefined();
    // The internet-facing gateway and the api reconfigure no stream.
    expect([streamsOwnedBy('websocket-gateway'), streamsOwnedBy('api')]).toEqual([[], []]);
  });
});
