import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ConfigKeys, EndpointType } from '@app/messaging';
import { EndpointEntity } from '@app/persistence';
import { SecretBox, type EndpointSecrets } from '@app/webhooks';
import { ApiError } from '../graphql/api.error.js';
import { parseUuid } from '../graphql/collection.model.js';

/**
 * A webhook's signing material as PostgreSQL keeps it: sealed with
 * SECRET_KEYS, bound to the endpoint's config key, so that the config bucket
 * carries the very text the row holds. Never selected unless asked for.
 */
@Injectable()
export class SigningSecrets {
  constructor(
    private readonly dataSource: DataSource,
    private readonly box: SecretBox,
  ) {}

  seal(endpointId: string, secrets: EndpointSecrets): string {
    return this.box.seal(secrets, ConfigKeys.secrets(endpointId));
  }

  open(endpointId: string, sealed: string): EndpointSecrets {
    return this.box.open<EndpointSecrets>(sealed, ConfigKeys.secrets(endpointId));
  }

  /**
   * The secrets of a row an older version kept in plaintext, sealed as they
   * will be (null: the row has none). Sealing is deterministic, so this is
   * the text SecretsAtRest writes.
   */
  async legacySealed(endpointId: string, manager: EntityManager = this.dataSource.manager): Promise<string | null> {
    const [row] = await manager.query<LegacyRow[]>(
      'SELECT signing_secret, previous_signing_secret, previous_secret_expires_at, custom_headers FROM endpoint WHERE id = $1',
      [endpointId],
    );
    if (!row?.signing_secret) return null;
    return this.seal(endpointId, {
      current: row.signing_secret,
      previous: row.previous_signing_secret,
      previousExpiresAt: row.previous_secret_expires_at?.toISOString() ?? null,
      customHeaders: row.custom_headers ?? {},
    });
  }

  /** Seals a row kept in plaintext in place and empties its plaintext columns; the caller holds the row's lock. */
  async sealLegacy(endpointId: string, manager: EntityManager): Promise<string | null> {
    const sealed = await this.legacySealed(endpointId, manager);
    if (sealed) {
      await manager.query(
        `UPDATE endpoint SET sealed_secrets = $2, signing_secret = NULL, previous_signing_secret = NULL,
                previous_secret_expires_at = NULL, custom_headers = '{}'::jsonb
          WHERE id = $1`,
        [endpointId, sealed],
      );
    }
    return sealed;
  }

  /** The webhook endpoint's secrets; NOT_FOUND, or BAD_USER_INPUT for an endpoint that has none. */
  async find(endpointId: string): Promise<{ endpoint: EndpointEntity; secrets: EndpointSecrets }> {
    const key = parseUuid('endpointId', endpointId);
    const endpoint = await this.dataSource
      .getRepository(EndpointEntity)
      .createQueryBuilder('endpoint')
      .addSelect('endpoint.sealedSecrets')
      .where('endpoint.id = :endpointId', { endpointId: key })
      .getOne();
    if (!endpoint) throw new ApiError('NOT_FOUND', `no endpoint has id ${endpointId}`, 'endpointId');
    const sealed = endpoint.type === EndpointType.WEB_HOOK ? (endpoint.sealedSecrets ?? (await this.legacySealed(endpoint.id))) : null;
    if (!sealed) throw ApiError.badInput('endpointId', 'only a webhook endpoint has a signing secret');
    return { endpoint, secrets: this.open(endpoint.id, sealed) };
  }
}

interface LegacyRow {
  signing_secret: string | null;
  previous_signing_secret: string | null;
  previous_secret_expires_at: Date | null;
  custom_headers: Record<string, string> | null;
}
