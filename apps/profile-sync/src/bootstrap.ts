import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { createLogger } from '@app/runtime';
import { loadProfileSyncConfig } from './profile-sync.config.js';
import { ProfileSyncModule } from './profile-sync.module.js';

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<INestApplicationContext> {
  const config = loadProfileSyncConfig(env);
  const app = await NestFactory.createApplicationContext(ProfileSyncModule.forRoot(config), {
    logger: createLogger('profile-sync', config.LOG_FORMAT, config.LOG_LEVEL),
  });
  await app.init();
  return app;
}
