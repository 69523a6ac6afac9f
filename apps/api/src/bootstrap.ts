import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { listenHost, resolveApiToken } from '@app/config';
import { createLogger } from '@app/runtime';
import { loadApiConfig } from './api.config.js';
import { ApiModule } from './api.module.js';

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<INestApplication> {
  const config = loadApiConfig(env);
  const token = resolveApiToken(config.API_TOKEN, config.NODE_ENV);
  const app = await NestFactory.create(ApiModule.forRoot(config, token.token), {
    logger: createLogger('api', config.LOG_FORMAT),
  });
  await app.listen(config.API_PORT, listenHost(config));
  if (token.generated) {
    new Logger('api').warn(`API_TOKEN is not set; this development run accepts the token ${token.token}`);
  }
  return app;
}
