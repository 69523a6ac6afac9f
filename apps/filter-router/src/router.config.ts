import { z } from 'zod';
import { loadConfig, natsEnv, partitionsEnv, runtimeEnv } from '@app/config';

export const routerEnv = z.object({
  ...natsEnv,
  ...partitionsEnv,
  ...runtimeEnv,
});

export type RouterConfig = z.infer<typeof routerEnv>;

export function loadRouterConfig(env: NodeJS.ProcessEnv): RouterConfig {
  return loadConfig(routerEnv, env);
}
