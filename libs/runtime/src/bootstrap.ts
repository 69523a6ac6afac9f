import { ConsoleLogger, Logger, type INestApplicationContext, type LoggerService } from '@nestjs/common';

/** The logger every app uses: JSON lines in production, readable text locally. */
export function createLogger(appName: string, format: 'text' | 'json'): LoggerService {
  return new ConsoleLogger(appName, { json: format === 'json', colors: format === 'text' && Boolean(process.stdout.isTTY) });
}

/**
 * Runs an app's start-up and turns any failure into one clear line and a
 * non-zero exit, so that an orchestrator sees the reason in the pod's log.
 */
export function runApp(appName: string, start: () => Promise<INestApplicationContext>): void {
  start()
    .then((app) => {
      app.enableShutdownHooks();
    })
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      new Logger(appName).fatal(`start-up failed: ${message}`);
      process.exit(1);
    });
}
