import type { ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { spawnApp, type ServiceApp } from '../../scripts/local-stack.js';
import { guardWaits } from './wait.js';

const KEPT_LINES = 200;
const SHOWN_LINES = 30;

/**
 * An app run by a test or a benchmark: its own process (spawnApp), its
 * output kept (the last lines in memory, all of it in `logFile` when given),
 * and its death noticed. An exit that `kill()` or `stop()` did not ask for
 * is a failure: from then on `exitError` holds it, with the app's last
 * output, and every `waitFor` of this process (or jest test file) fails at
 * once with it, until `expectExit()` (its stack's stop()) says otherwise.
 *
 * The app never outlives this process: spawnApp's lifeline stops it when
 * this process ends in any way, and it does not keep this process alive.
 */
export class AppProcess {
  /** The app's last output lines, stdout and stderr interleaved. */
  readonly log: string[] = [];
  exited = false;
  private exitStatus = '';
  private exitExpected = false;
  private readonly exitedPromise: Promise<void>;
  private readonly removeGuard: () => void;

  private constructor(
    /** As tests name it: `filter-router`, `filter-router#2`. */
    readonly name: string,
    readonly child: ChildProcess,
    readonly logFile: string | null,
  ) {
    const file: WriteStream | null = logFile ? createWriteStream(logFile, { flags: 'a' }) : null;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        file?.write(chunk);
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop()!;
        this.keep(lines);
      });
      stream?.on('end', () => this.keep([partial]));
    }
    // Neither the child nor its pipes keep this process alive: a run whose clean-up never ran
    // still ends, and its end closes the lifeline (fd 3), which stops the app.
    for (const stream of child.stdio) (stream as { unref?: () => void } | null)?.unref?.();
    this.exitedPromise = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        this.exitStatus = signal ? `killed by ${signal}` : `exit code ${code}`;
        resolve();
      });
    });
    // Not on 'exit': output may still be arriving then.
    child.once('close', () => file?.end());
    child.unref();
    this.removeGuard = guardWaits(() => this.exitError);
  }

  /** Starts `app` with `env`; the app's stdout and stderr are kept (and appended to `logFile`). */
  static spawn(app: ServiceApp, env: NodeJS.ProcessEnv, { name = app, logFile = null }: { name?: string; logFile?: string | null } = {}): AppProcess {
    return new AppProcess(name, spawnApp(app, env, 'pipe', { lifeline: true }), logFile);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The app's last output lines, as one string. */
  output(lines = SHOWN_LINES): string {
    return this.log.slice(-lines).join('\n');
  }

  /** Why this app's run failed: it exited without being asked to; null while it runs or when it was killed on purpose. */
  get exitError(): Error | null {
    if (!this.exited || this.exitExpected) return null;
    const where = this.logFile ? ` (whole log: ${this.logFile})` : '';
    return new Error(`${this.name} (pid ${this.pid}) exited unexpectedly, ${this.exitStatus}; its last output${where}:\n${this.output()}`);
  }

  /** Resolves once the app has exited, or after `timeoutMs` if it has not. */
  async exitWithin(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exitedPromise, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]).finally(() => clearTimeout(timer));
  }

  /** Ends the app on purpose (SIGKILL by default: no clean-up at all) and waits until it is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 30_000): Promise<void> {
    // An exit that already happened stays what it was: killing a dead app forgives nothing.
    if (this.exited) return;
    this.expectExit();
    this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} (pid ${this.pid}) did not exit within ${timeoutMs} ms of ${signal}`)), timeoutMs);
    });
    await Promise.race([this.exitedPromise, deadline]).finally(() => clearTimeout(timer));
  }

  /** SIGTERM (the app's shutdown hooks run), then SIGKILL if it takes longer than `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    await this.kill('SIGTERM', graceMs).catch(() => this.kill('SIGKILL'));
  }

  /** From now on, this app's exit is no failure (it is being stopped, or its death was already reported). */
  expectExit(): void {
    this.exitExpected = true;
    this.removeGuard();
  }

  private keep(lines: string[]): void {
    this.log.push(...lines.filter(Boolean));
    if (this.log.length > KEPT_LINES) this.log.splice(0, this.log.length - KEPT_LINES);
  }
}
