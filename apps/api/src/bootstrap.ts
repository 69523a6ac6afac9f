import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { listenHost, resolveApiToken } from '@app/config';
import type { AccessTokens } from '@app/messaging';
import { createLogger } from '@app/runtime';
import { loadApiConfig } from './api.config.js';
import { ApiModule } from './api.module.js';
import { API_TOKENS } from './api.tokens.js';
import { DashboardSessions } from './dashboard/dashboard-sessions.js';
import { credentialFirstBodyParser } from './graphql/body-limits.js';

export async function bootstrap(env: NodeJS.ProcessEnv = process.env): Promise<INestApplication> {
  const config = loadApiConfig(env);
  const token = resolveApiToken(config.API_TOKEN, config.NODE_ENV);
  const app = await NestFactory.create(ApiModule.forRoot(config, token.token), {
    logger: createLogger('api', config.LOG_FORMAT, config.LOG_LEVEL),
    // Bodies are parsed once the credential is known (credentialFirstBodyParser): an anonymous one is read to a small limit only.
    bodyParser: false,
  });
  app.use(credentialFirstBodyParser(app.get<AccessTokens>(API_TOKENS), app.get(DashboardSessions)));
  await app.listen(config.API_PORT, listenHost(config));
  if (token.generated) {
    // Never the token itself in a log: `npm start` sets API_TOKEN and shows it on its own terminal.
    new Logger('api').warn('API_TOKEN is not set: this development run made a random token it does not show; set API_TOKEN to use the API');
  }
  return app;
}
