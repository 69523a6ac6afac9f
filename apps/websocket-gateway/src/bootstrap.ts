import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { createLogger } from '@app/runtime';
import { loadGatewayConfig } from './gateway.config.js';
import { GatewayModule } from './gateway.module.js';

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<INestApplicationContext> {
  const config = loadGatewayConfig(env);
  const app = await NestFactory.createApplicationContext(GatewayModule.forRoot(config), {
    logger: createLogger('websocket-gateway', config.LOG_FORMAT, config.LOG_LEVEL),
  });
  await app.init();
  return app;
}
