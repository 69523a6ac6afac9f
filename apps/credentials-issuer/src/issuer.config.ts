import { z } from 'zod';
import { loadConfig, natsEnv, runtimeEnv } from '@app/config';

export const issuerEnv = z.object({
  ...natsEnv,
  ...runtimeEnv,
  /**
   * The issuer's part of the operator set-up (`npm run nats:operator`, its
   * `issuer/` folder): the operator's and the agents account's signing keys,
   * a system-account user and the accounts' public keys. Mount it from a
   * secret no other app reads.
   */
  ISSUER_KEYS_DIR: z.string().min(1, 'the folder of the operator set-up the issuer reads (its issuer/ folder)'),
});

export type IssuerConfig = z.infer<typeof issuerEnv>;

export function loadIssuerConfig(env: NodeJS.ProcessEnv): IssuerConfig {
  return loadConfig(issuerEnv, env);
}
