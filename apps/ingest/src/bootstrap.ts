import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { listenHost } from '@app/config';
import { createLogger } from '@app/runtime';
import { loadIngestConfig } from './ingest.config.js';
import { IngestModule } from './ingest.module.js';

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<INestApplication> {
  const config = loadIngestConfig(env);
  // The body is read by the controller itself, to enforce the documented size limit.
  const app = await NestFactory.create(IngestModule.forRoot(config), {
    bodyParser: false,
    logger: createLogger('ingest', config.LOG_FORMAT, config.LOG_LEVEL),
  });
  await app.listen(config.INGEST_PORT, listenHost(config));
  return app;
}
