import { setTimeout as sleep } from 'node:timers/promises';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { StorageType } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { backoffMs, retryWhileTransient } from '@app/runtime';
import type { NatsClient } from './nats-connection.js';
import { isWrongLastSequence, PublishUnavailableError } from './publisher.js';
import { replicasOf, warnWhenReplicasDiffer } from './replicas.js';

/** A camera's binding: the agent whose events may name it (keys, idKey). */
export interface CameraBinding {
  cameraId: string;
  agentId: string;
  /** When the camera was first reported, or moved by hand. */
  boundAt: string;
}

/** The api's command to ingest: bind a camera to another agent (an ADMIN's `moveCamera`). */
export interface MoveCameraCommand {
  cameraId: string;
  agentId: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Opens the camera bindings bucket for reading (the api): only ingest creates and writes it. */
export async function openCameraBindings(client: NatsClient): Promise<KV> {
  return new Kvm(client.connection).open(client.topology.cameraBucket, { bindOnly: true, allow_direct: true });
}

/** The binding in the bucket now, or null. */
export async function readCameraBinding(bucket: KV, cameraKey: string): Promise<CameraBinding | null> {
  return bindingOf(await bucket.get(cameraKey));
}

/** Asks ingest to bind a camera to an agent; resolves once the bucket holds it, or false after `timeoutMs`. */
export async function moveCamera(client: NatsClient, bucket: KV, command: MoveCameraCommand, timeoutMs = 5_000): Promise<CameraBinding | null> {
  const deadline = Date.now() + timeoutMs;
  client.connection.publish(client.topology.moveCameraCommands, encoder.encode(JSON.stringify(command)));
  for (let round = 1; Date.now() < deadline; round += 1) {
    const binding = await readCameraBinding(bucket, command.cameraId);
    if (binding?.agentId === command.agentId) return binding;
    await sleep(Math.min(backoffMs(round, 20, 500), Math.max(0, deadline - Date.now())));
  }
  return null;
}

/**
 * Which agent each camera belongs to: the first agent that reports a camera
 * owns it, and an event of another agent naming it is refused
 * (CAMERA_OF_ANOTHER_AGENT). A KV bucket whose only writer is ingest (which
 * has no database), watched into memory by every ingest replica; the api
 * moves a camera by a command that one ingest replica applies.
 */
export class CameraBindings implements OnApplicationShutdown {
  private readonly logger = new Logger(CameraBindings.name);
  private readonly bindings = new Map<string, string>();
  /** How many cameras each agent has (from the bucket): a new one beyond `maxPerAgent` is refused. */
  private readonly perAgent = new Map<string, number>();
  private stopped = false;
  private stopWatch: (() => void) | null = null;
  private commands: Subscription | null = null;

  private constructor(
    private readonly client: NatsClient,
    private readonly bucket: KV,
    private readonly maxPerAgent: number,
  ) {}

  /** `maxPerAgent`: cameras one agent may have (INGEST_MAX_CAMERAS_PER_AGENT), so that one agent cannot grow every ingest replica's memory without bound. */
  static async open(client: NatsClient, maxPerAgent = Number.POSITIVE_INFINITY): Promise<CameraBindings> {
    const replicas = replicasOf(client.settings);
    const bucket = await retryWhileTransient('camera bindings bucket set-up', async () => {
      const opened = await new Kvm(client.connection).create(client.topology.cameraBucket, { history: 1, storage: StorageType.File, replicas, allow_direct: true });
      const status = await opened.status();
      warnWhenReplicasDiffer(status.streamInfo.config.name, status.replicas, replicas);
      return opened;
    });
    return new CameraBindings(client, bucket, maxPerAgent);
  }

  /** Loads every binding, keeps watching, and takes the api's move commands (one ingest replica each). */
  async start(): Promise<void> {
    await retryWhileTransient('camera bindings watch', () => this.watch());
    this.commands = this.client.connection.subscribe(this.client.topology.moveCameraCommands, {
      queue: 'ingest',
      callback: (error, message) => {
        if (error) return;
        const command = parseCommand(message.data);
        if (!command) return void this.logger.warn('a camera move command that is not {cameraId, agentId}; ignored');
        void this.move(command).catch((failure: Error) => this.logger.warn(`cannot move camera ${command.cameraId}: ${failure.message}`));
      },
    });
  }

  onApplicationShutdown(): void {
    this.stop();
  }

  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    this.commands?.unsubscribe();
  }

  /**
   * `mine` when the camera may carry this agent's events (binding it to the
   * agent if nobody reported it before); `too-many` when it would be a new
   * camera of an agent that has `maxPerAgent` already; else the agent it
   * belongs to.
   */
  async claim(cameraKey: string, agentKey: string): Promise<'mine' | 'too-many' | { owner: string }> {
    try {
      return await this.claimIn(cameraKey, agentKey);
    } catch (error) {
      throw new PublishUnavailableError(`cannot read the camera bindings: ${(error as Error).message}`, { cause: error });
    }
  }

  private async claimIn(cameraKey: string, agentKey: string): Promise<'mine' | 'too-many' | { owner: string }> {
    const known = this.bindings.get(cameraKey);
    if (known === agentKey) return 'mine';
    if (known === undefined) {
      if ((this.perAgent.get(agentKey) ?? 0) >= this.maxPerAgent) return 'too-many';
      try {
        await this.bucket.create(cameraKey, encoder.encode(JSON.stringify(binding(cameraKey, agentKey))));
        this.bind(cameraKey, agentKey);
        return 'mine';
      } catch (error) {
        if (!isWrongLastSequence(error)) throw error;
      }
    }
    // Another agent's, or taken a moment ago: the bucket decides (a move may not have reached this replica's watch yet).
    const current = await readCameraBinding(this.bucket, cameraKey);
    if (current) this.bind(cameraKey, current.agentId);
    return current === null || current.agentId === agentKey ? 'mine' : { owner: current.agentId };
  }

  private bind(cameraKey: string, agentKey: string): void {
    this.unbind(cameraKey);
    this.bindings.set(cameraKey, agentKey);
    this.perAgent.set(agentKey, (this.perAgent.get(agentKey) ?? 0) + 1);
  }

  private unbind(cameraKey: string): void {
    const agent = this.bindings.get(cameraKey);
    if (agent === undefined) return;
    this.bindings.delete(cameraKey);
    const left = (this.perAgent.get(agent) ?? 1) - 1;
    if (left > 0) this.perAgent.set(agent, left);
    else this.perAgent.delete(agent);
  }

  private async move(command: MoveCameraCommand): Promise<void> {
    await this.bucket.put(command.cameraId, encoder.encode(JSON.stringify(binding(command.cameraId, command.agentId))));
    this.bind(command.cameraId, command.agentId);
    this.logger.log(`camera ${command.cameraId} moved to agent ${command.agentId}`);
  }

  private async watch(): Promise<void> {
    const watch = await this.bucket.watch({ key: '>' });
    this.stopWatch = () => watch.stop();
    const status = await this.bucket.status();
    let markCaughtUp!: () => void;
    const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
    if (status.values === 0) markCaughtUp();
    void (async () => {
      for await (const entry of watch) {
        const found = bindingOf(entry);
        if (found) this.bind(entry.key, found.agentId);
        else this.unbind(entry.key);
        if (entry.delta === 0) markCaughtUp();
      }
    })()
      .catch((error: Error) => this.logger.warn(`camera bindings watch failed: ${error.message}`))
      .finally(() => {
        markCaughtUp();
        if (!this.stopped) void this.rewatch();
      });
    await caughtUp;
  }

  private async rewatch(): Promise<void> {
    for (let failures = 1; !this.stopped; failures += 1) {
      await sleep(backoffMs(failures, 200, 5_000));
      if (this.stopped) return;
      try {
        return await this.watch();
      } catch (error) {
        this.logger.warn(`cannot watch the camera bindings again: ${(error as Error).message}`);
      }
    }
  }
}

function binding(cameraId: string, agentId: string): CameraBinding {
  return { cameraId, agentId, boundAt: new Date().toISOString() };
}

function bindingOf(entry: KvEntry | null): CameraBinding | null {
  if (entry?.operation !== 'PUT') return null;
  try {
    const value = JSON.parse(decoder.decode(entry.value)) as Partial<CameraBinding>;
    return typeof value.agentId === 'string' && typeof value.cameraId === 'string' && typeof value.boundAt === 'string'
      ? { cameraId: value.cameraId, agentId: value.agentId, boundAt: value.boundAt }
      : null;
  } catch {
    return null;
  }
}

const KEY = /^[0-9a-f-]{36}$/;

function parseCommand(data: Uint8Array): MoveCameraCommand | null {
  try {
    const { cameraId, agentId } = JSON.parse(decoder.decode(data)) as Partial<MoveCameraCommand>;
    return typeof cameraId === 'string' && typeof agentId === 'string' && KEY.test(cameraId) && KEY.test(agentId) ? { cameraId, agentId } : null;
  } catch {
    return null;
  }
}
