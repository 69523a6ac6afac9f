import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isListening } from './ports.js';
import { waitFor } from './wait.js';

/**
 * A nats-server of a test's own, on a free port with its own store directory,
 * so that a test can stop and restart it (an outage of NATS) without touching
 * the shared server other tests use. Stopped by its process id.
 */
export class OwnNatsServer {
  private process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly storeDir: string,
    private readonly extraArgs: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * `extraArgs`: more nats-server options (credentials, `-c <config>`, `-l <log file>`);
   * `env`: variables the server's config refers to (`$NATS_API_PASSWORD`), besides this process's.
   */
  static async start(extraArgs: string[] = [], { env = {} }: { env?: NodeJS.ProcessEnv } = {}): Promise<OwnNatsServer> {
    const server = new OwnNatsServer(await freePort(), mkdtempSync(join(tmpdir(), 'event-service-nats-')), extraArgs, env);
    try {
      await server.resume();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on the same port and store (JetStream keeps its streams). */
  async resume(): Promise<void> {
    const child = spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir, ...this.extraArgs], {
      stdio: 'ignore',
      env: { ...process.env, ...this.env },
    });
    this.process = child;
    const outcome = await waitFor(async () => (child.exitCode !== null ? 'exited' : (await isListening(this.port)) ? 'listening' : null), {
      timeoutMs: 20_000,
      what: `nats-server on port ${this.port}`,
    });
    // A config it cannot read (a variable not set, a file not found) ends it at once.
    if (outcome === 'exited') throw new Error(`nats-server on port ${this.port} exited with code ${child.exitCode} (its config or options are wrong)`);
  }

  /** Stops the server (SIGTERM: it shuts down as a restarted server does) and waits until it is gone. */
  async halt(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
    this.process = null;
  }

  async stop(): Promise<void> {
    await this.halt('SIGKILL');
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
