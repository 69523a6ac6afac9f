import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import { AgentCredentials } from './agent-credentials.js';

/** User keys asked about in one request to the issuer. */
const KEYS_PER_REQUEST = 1_000;

/**
 * Holds every NATS user key ever revoked revoked on the server (operator
 * mode): at start and every CONFIG_RECONCILE_INTERVAL, the api asks the
 * issuer to revoke them all again, which costs it one lookup when the
 * server's copy of the agents account has them. It restores them when it
 * has not: a revocation whose request failed midway, the account's JWT
 * preloaded again from an older set-up, the resolver's store restored from
 * a backup. PostgreSQL (agent.revoked_keys) is the record.
 */
@Injectable()
export class AgentRevocations implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AgentRevocations.name);
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly credentials: AgentCredentials,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.credentials.issuesNatsCredentials) return;
    void this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.config.CONFIG_RECONCILE_INTERVAL);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Asks once (a run still going is not started again); failures are logged and tried at the next interval. */
  reconcile(): Promise<void> {
    this.running ??= this.reconcileOnce()
      .catch((error: Error) => this.logger.warn(`revoked NATS users not confirmed (tried again in ${this.config.CONFIG_RECONCILE_INTERVAL} ms): ${error.message}`))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async reconcileOnce(): Promise<void> {
    const rows = (await this.dataSource.query('SELECT DISTINCT unnest(revoked_keys) AS key FROM agent ORDER BY key')) as Array<{ key: string }>;
    for (let start = 0; start < rows.length; start += KEYS_PER_REQUEST) {
      await this.credentials.revokeKeys(rows.slice(start, start + KEYS_PER_REQUEST).map((row) => row.key));
    }
  }
}
