import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { createLogger } from '@app/runtime';
import { loadRouterConfig } from './router.config.js';
import { RouterModule } from './router.module.js';

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<INestApplicationContext> {
  const config = loadRouterConfig(env);
  const app = await NestFactory.createApplicationContext(RouterModule.forRoot(config), {
    logger: createLogger('filter-router', config.LOG_FORMAT, config.LOG_LEVEL),
  });
  await app.init();
  return app;
}
