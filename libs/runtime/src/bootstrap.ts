import { ConsoleLogger, Logger, type INestApplicationContext, type LoggerService, type LogLevel } from '@nestjs/common';

/** The levels printed at each LOG_LEVEL: `log` (info) leaves out the per-event detail logged at `debug`. */
const LEVELS: Record<'error' | 'warn' | 'log' | 'debug', LogLevel[]> = {
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  log: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

/**
 * The logger every app uses: JSON lines in production, readable text locally.
 * An object after the message is structured context: `logger.warn('…', ...eventLog(id))`
 * puts `event_id` at the top of the JSON line (`flattenParams`), and after the
 * message in text.
 */
export function createLogger(appName: string, format: 'text' | 'json', level: keyof typeof LEVELS = 'log'): LoggerService {
  return new ConsoleLogger(appName, {
    json: format === 'json',
    colors: format === 'text' && Boolean(process.stdout.isTTY),
    flattenParams: true,
    logLevels: LEVELS[level],
  });
}

/**
 * The structured context of a log line about one event, to spread after the
 * message (`logger.warn('…', ...eventLog(id))`): its id, the key that
 * correlates the lines of every app; nothing when the id is unknown.
 */
export function eventLog(eventId: string | null | undefined): [] | [{ event_id: string }] {
  return eventId ? [{ event_id: eventId }] : [];
}

/**
 * Runs an app's start-up and turns any failure into one clear line and a
 * non-zero exit, so that an orchestrator sees the reason in the pod's log.
 */
export function runApp(appName: string, start: () => Promise<INestApplicationContext>): void {
  start()
    .then((app) => {
      if (!process.env.CPU_PROFILE_DIR) return void app.enableShutdownHooks();
      // Profiled (node --cpu-prof, scripts/local-stack.ts): the profile is written on a normal exit only, and
      // Nest's hooks end the process by raising the signal again, so the app closes and exits by itself.
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void app.close().finally(() => process.exit(0)));
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      new Logger(appName).fatal(`start-up failed: ${message}`);
      process.exit(1);
    });
}
