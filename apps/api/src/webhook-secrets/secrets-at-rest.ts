import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointType } from '@app/messaging';
import { isTransientFailure } from '@app/runtime';
import { SecretBox } from '@app/webhooks';
import { SigningSecrets } from './signing-secrets.js';

const BATCH = 100;

/**
 * Keeps every webhook's secrets sealed with the first of SECRET_KEYS: seals
 * the rows an older version kept in plaintext (and empties their plaintext
 * columns), and seals again what an older key sealed. Each row is changed
 * under its lock, so its version moves and the reconcile publishes it: the
 * config bucket follows. A row that cannot be opened (sealed with a key no
 * longer listed) is logged by id and key id and left as it is; the others go
 * on. Run by the reconcile, before it publishes.
 */
@Injectable()
export class SecretsAtRest {
  private readonly logger = new Logger(SecretsAtRest.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
    private readonly secrets: SigningSecrets,
  ) {}

  /** Returns how many rows it sealed. */
  async reseal(): Promise<number> {
    let total = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const ids = await this.due(after);
      for (const id of ids) {
        try {
          if (await this.resealOne(id)) total += 1;
        } catch (error) {
          if (isTransientFailure(error)) throw error;
          // Never the text itself: the key id says which key is missing.
          this.logger.error(`endpoint ${id}: cannot seal its secrets again with key ${this.box.currentId} (${(error as Error).message}); deliveries to it wait`);
        }
      }
      if (ids.length < BATCH) break;
      after = ids.at(-1)!;
    }
    if (total > 0) this.logger.log(`sealed the secrets of ${total} webhook endpoints with key ${this.box.currentId}`);
    return total;
  }

  /** Webhooks whose secrets are in plaintext, or sealed with another key than the current one, by id from `after`. */
  private async due(after: string): Promise<string[]> {
    const prefix = `v2.${this.box.currentId}.`;
    const rows = await this.dataSource.query<Array<{ id: string }>>(
      `SELECT id FROM endpoint
        WHERE type = $1 AND id > $3
          AND ((sealed_secrets IS NULL AND signing_secret IS NOT NULL) OR left(sealed_secrets, length($2)) <> $2)
        ORDER BY id LIMIT ${BATCH}`,
      [EndpointType.WEB_HOOK, prefix, after],
    );
    return rows.map((row) => row.id);
  }

  private async resealOne(id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<Array<{ sealed_secrets: string | null }>>('SELECT sealed_secrets FROM endpoint WHERE id = $1 FOR UPDATE', [id]);
      if (!row) return false;
      if (!row.sealed_secrets) return (await this.secrets.sealLegacy(id, manager)) !== null;
      if (this.box.sealsWithCurrentKey(row.sealed_secrets)) return false;
      const resealed = this.secrets.seal(id, this.secrets.open(id, row.sealed_secrets));
      await manager.query('UPDATE endpoint SET sealed_secrets = $2 WHERE id = $1', [id, resealed]);
      return true;
    });
  }
}
