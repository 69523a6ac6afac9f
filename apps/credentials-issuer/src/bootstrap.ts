import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { createLogger } from '@app/runtime';
import { loadIssuerConfig } from './issuer.config.js';
import { IssuerModule } from './issuer.module.js';

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<INestApplicationContext> {
  const config = loadIssuerConfig(env);
  const app = await NestFactory.createApplicationContext(IssuerModule.forRoot(config), {
    logger: createLogger('credentials-issuer', config.LOG_FORMAT, config.LOG_LEVEL),
  });
  await app.init();
  return app;
}
