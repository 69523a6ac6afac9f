import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EndpointType } from '@app/messaging';
import { SecretBox, type EndpointSecrets } from '@app/webhooks';
import { SigningSecrets } from './signing-secrets.js';

interface Row {
  id: string;
  sealed_secrets: string | null;
  signing_secret: string | null;
  previous_signing_secret: string | null;
  previous_secret_expires_at: Date | null;
  custom_headers: Record<string, string> | null;
}

const BATCH = 100;

/**
 * Keeps every webhook's secrets sealed with the first of SECRET_KEYS: seals
 * the rows an older version kept in plaintext (and empties their plaintext
 * columns), and seals again what an older key sealed. Each row is changed
 * under its lock, so its version moves and the reconcile publishes it: the
 * config bucket follows. Run by the reconcile, before it publishes.
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
    for (;;) {
      const ids = await this.due();
      if (ids.length === 0) break;
      for (const id of ids) if (await this.resealOne(id)) total += 1;
      if (ids.length < BATCH) break;
    }
    if (total > 0) this.logger.log(`sealed the secrets of ${total} webhook endpoints with key ${this.box.currentId}`);
    return total;
  }

  /** Webhooks whose secrets are in plaintext, or sealed with another key than the current one. */
  private async due(): Promise<string[]> {
    const rows = await this.dataSource.query<Array<{ id: string }>>(
      `SELECT id FROM endpoint
        WHERE type = $1 AND ((sealed_secrets IS NULL AND signing_secret IS NOT NULL) OR sealed_secrets NOT LIKE $2)
        ORDER BY id LIMIT ${BATCH}`,
      [EndpointType.WEB_HOOK, `v2.${this.box.currentId}.%`],
    );
    return rows.map((row) => row.id);
  }

  private async resealOne(id: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const [row] = await manager.query<Row[]>(
        `SELECT id, sealed_secrets, signing_secret, previous_signing_secret, previous_secret_expires_at, custom_headers
           FROM endpoint WHERE id = $1 FOR UPDATE`,
        [id],
      );
      if (!row) return false;
      let secrets: EndpointSecrets;
      if (row.sealed_secrets) {
        if (this.box.sealsWithCurrentKey(row.sealed_secrets)) return false;
        secrets = this.secrets.open(id, row.sealed_secrets);
      } else if (row.signing_secret) {
        secrets = {
          current: row.signing_secret,
          previous: row.previous_signing_secret,
          previousExpiresAt: row.previous_secret_expires_at?.toISOString() ?? null,
          customHeaders: row.custom_headers ?? {},
        };
      } else {
        return false;
      }
      await manager.query(
        `UPDATE endpoint SET sealed_secrets = $2, signing_secret = NULL, previous_signing_secret = NULL,
                previous_secret_expires_at = NULL, custom_headers = '{}'::jsonb
          WHERE id = $1`,
        [id, this.secrets.seal(id, secrets)],
      );
      return true;
    });
  }
}
