import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { createLogger } from '@app/runtime';
import { loadDispatcherConfig } from './dispatcher.config.js';
import { DispatcherModule } from './dispatcher.module.js';

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<INestApplicationContext> {
  const config = loadDispatcherConfig(env);
  const app = await NestFactory.createApplicationContext(DispatcherModule.forRoot(config), {
    logger: createLogger('webhook-dispatcher', config.LOG_FORMAT, config.LOG_LEVEL),
  });
  await app.init();
  return app;
}
