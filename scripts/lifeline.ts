import { Socket } from 'node:net';

/**
 * Preloaded (`node --import`) into each app that `npm start`, the test stacks
 * and the benchmarks run: fd 3 is one end of a pipe whose other end the
 * parent alone holds, so it closes when the parent ends in any way, SIGKILL
 * included. The app then stops as on SIGTERM (its own graceful shutdown), and
 * exits outright if that has not finished in 10 s: an app must never outlive
 * the process that owns it.
 */
const LIFELINE_FD = 3;
const SHUTDOWN_LIMIT_MS = 10_000;

const lifeline = new Socket({ fd: LIFELINE_FD, readable: true, writable: false });
// Only start.js's end of the pipe may keep this process alive, never this end.
lifeline.unref();
lifeline.resume();
lifeline.on('error', () => lifeline.destroy());
lifeline.once('close', () => {
  // stdout and stderr were pipes to the parent too: a log line written during
  // shutdown must not turn into an EPIPE crash that skips the clean-up.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  setTimeout(() => process.exit(1), SHUTDOWN_LIMIT_MS).unref();
  process.kill(process.pid, 'SIGTERM');
});
